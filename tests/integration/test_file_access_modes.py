"""Both file-access modes: direct (the default: the sentry walks beneath the root the
gofer donated) and gofer (every file operation is a request to the gofer process)
give the same results and the same confinement."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from sentry import ffi
from sentry.config import SandboxConfig
from sentry.runner import SandboxError, Supervisor
from tests.conftest import comm, descendants, do_args, open_fds, run_do, run_native, sandvisor_cmd
from tests.integration.test_programs import FILE_WORK

MODES = ["direct", "gofer"]
_PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("mode", MODES)
def test_file_work_same_as_native(mode, tmp_path):
    native = run_native(["busybox", "sh", "-c", FILE_WORK], cwd=str(tmp_path))
    inside = run_do(["--file-access", mode, "--cwd", str(tmp_path), "--", "busybox", "sh", "-c",
                     FILE_WORK])
    assert (inside.returncode, inside.stdout, inside.stderr) == \
        (native.returncode, native.stdout, native.stderr)


@pytest.mark.parametrize("mode", MODES)
def test_escapes_stay_inside(mode, bb_root_with_progs, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("HOST-SECRET")
    rel = "../" * 12 + str(secret).lstrip("/")
    script = (f"cat {secret}; cat /tmp/{rel}; ln -s {secret} /tmp/a; cat /tmp/a;"
              f"cat /proc/self/root{secret}; cd /tmp && swap_race {rel} 1000")
    res = run_do(["--file-access", mode, "--root", str(bb_root_with_progs), "--", "/bin/sh", "-c",
                  script])
    assert "HOST-SECRET" not in res.stdout
    assert res.stderr.count("No such file or directory") == 4
    assert res.stdout.strip().endswith("other=0 failed=1")


@pytest.mark.parametrize("mode", MODES)
def test_identity_and_read_only(mode, bb_root_with_progs, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    res = run_do(["--file-access", mode, "--root", str(bb_root_with_progs), "--user", "1000",
                  "-v", f"{ro}:/ro:ro", "--", "/bin/sh", "-c",
                  "touch /tmp/mine && stat -c %u /tmp/mine; touch /etc/x; touch /ro/y"])
    assert res.stdout.strip() == "1000"
    assert "Permission denied" in res.stderr and "Read-only file system" in res.stderr


@pytest.mark.parametrize("mode", MODES)
def test_identity_follows_each_caller(mode):
    """Callers with different identities, interleaved: each request is checked with its
    own caller's (the direct mode keeps the last caller's identity between requests)."""
    as_user = "setpriv --reuid=1000 --regid=1000 --clear-groups"
    script = ("umask 077; echo secret > /tmp/rootonly; "
              + "; ".join([f"cat /tmp/rootonly; {as_user} cat /tmp/rootonly 2>&1 | "
                           "grep -c 'Permission denied'"] * 3)
              + f"; {as_user} sh -c 'echo mine > /tmp/usr/f'; cat /tmp/usr/f; id -u")
    res = run_do(["--file-access", mode, "--", "sh", "-c",
                  f"mkdir -m 777 /tmp/usr; {script}"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["secret", "1"] * 3 + ["mine", "0"]


@pytest.mark.parametrize("mode", MODES)
def test_result_json_written_as_sentry_after_user_run(mode, tmp_path):
    """--result-json under a root-only directory after the application ran as another
    user: the sentry writes it with its own identity, not the last caller's."""
    out = tmp_path / "private" / "result.json"
    out.parent.mkdir(mode=0o700)
    res = run_do(["--file-access", mode, "--user", "1000", "--result-json", str(out), "--",
                  "sh", "-c", "cat /etc/hostname /etc/passwd > /dev/null; exit 3"])
    assert res.returncode == 3, res.stderr
    assert '"exit_code": 3' in out.read_text()


_HOLDS_ROOT = """
import os
from sentry.config import SandboxConfig
from sentry.runner import Supervisor

class Probe(Supervisor):
    def on_started(self, kernel):
        view = os.stat(f"/proc/{self.gofer_pid}/root")   # the gofer pivoted into the view
        self.held = []
        for name in os.listdir("/proc/self/fd"):
            try:
                st = os.fstat(int(name))
            except OSError:
                continue   # the listing's own descriptor
            if (st.st_dev, st.st_ino) == (view.st_dev, view.st_ino):
                self.held.append(int(name))
        self.client = type(kernel.gofer).__name__

probe = Probe(SandboxConfig(argv=["true"], cwd="/", file_access=MODE))
outcome = probe.run()
print(outcome.status, probe.client, len(probe.held))
"""


@pytest.mark.parametrize("mode", MODES)
def test_sentry_holds_the_root_only_with_direct_access(mode):
    """direct: the root comes with the gofer's ready message and the sentry holds one
    descriptor of it (its client's); gofer: the sentry holds none, every file operation
    goes through the gofer."""
    code = _HOLDS_ROOT.replace("MODE", repr(mode))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=_PROJECT)
    assert proc.returncode == 0, proc.stderr
    expected = {"direct": "0 DirectClient 1", "gofer": "0 GoferClient 0"}[mode]
    assert proc.stdout.strip() == expected, proc.stdout + proc.stderr


@pytest.mark.parametrize("mode, fds, problem", [
    ("direct", 0, "sent 0 descriptors with its ready message, not 1"),
    ("direct", 2, "sent 2 descriptors with its ready message, not 1"),
    ("gofer", 1, "sent 1 descriptors with its ready message, not 0"),
])
def test_gofer_ready_message_with_wrong_descriptors_is_refused(mode, fds, problem):
    """A gofer that hands over the wrong descriptors with its "ok" stops the start-up
    with a clear error, and every descriptor it sent is closed."""
    sup = Supervisor.__new__(Supervisor)
    sup.cfg = SandboxConfig(argv=["true"], file_access=mode)
    sup.gofer_pid, sup.debug = 0, lambda _msg: None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sup.gofer_sock = ours
    with ours, theirs:
        before = open_fds()
        sent = [os.open("/", os.O_PATH) for _ in range(fds)]
        theirs.sendmsg([b"ok"], ffi.rights(*sent))
        for fd in sent:
            os.close(fd)
        with pytest.raises(SandboxError, match=problem):
            sup._await_gofer()
        assert open_fds() == before


def test_gofer_error_message_is_reported():
    sup = Supervisor.__new__(Supervisor)
    sup.cfg = SandboxConfig(argv=["true"])
    sup.gofer_pid, sup.debug = 0, lambda _msg: None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sup.gofer_sock = ours
    with ours, theirs:
        theirs.send(b"error /nowhere: No such file or directory")
        with pytest.raises(SandboxError, match="filesystem: /nowhere: No such file"):
            sup._await_gofer()


def test_gofer_kept_on_one_cpu_while_it_serves():
    # gofer/client.py moves the gofer to the CPU the sentry calls from; the runner must
    # tell the client which process that is
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: nothing to follow")
    proc = subprocess.Popen(
        sandvisor_cmd() + do_args(["--file-access", "gofer", "--", "/bin/sh", "-c",
                                   "cat /etc/hostname /etc/passwd >/dev/null; echo up; read x"]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "up\n"
        gofers = [pid for pid in descendants(proc.pid) if comm(pid) == "sv-gofer"]
        assert len(gofers) == 1, gofers
        assert len(os.sched_getaffinity(gofers[0])) == 1
    finally:
        proc.communicate("\n", timeout=30)
    assert proc.returncode == 0
