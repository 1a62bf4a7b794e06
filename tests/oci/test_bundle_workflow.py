"""The OCI bundle workflow, answered as runc answers it (../shared/oci/runc-bundle-seq.txt)."""

from __future__ import annotations

import array
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import sandvisor_cmd, wait_for

LOOP = 'trap "echo got-TERM; exit 143" TERM; echo started; while :; do sleep 0.1; done'


class Oci:
    def __init__(self, root: Path, logs: Path):
        self.root, self.logs = root, logs
        self.n = 0

    def __call__(self, *args, timeout=60, global_args=()):
        """Run one command; stdio goes to files, as a container keeps create's stdio open."""
        self.n += 1
        out, err = self.logs / f"{self.n}.out", self.logs / f"{self.n}.err"
        with open(out, "w") as fo, open(err, "w") as fe:
            rc = subprocess.run(sandvisor_cmd() + ["--root", str(self.root), *global_args, *args],
                                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                timeout=timeout, cwd="/tmp").returncode
        return rc, out.read_text(), err.read_text(), out


@pytest.fixture
def oci(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    runner = Oci(tmp_path / "state", logs)
    yield runner
    for cid in os.listdir(runner.root) if runner.root.exists() else []:
        if not cid.startswith("."):
            runner("delete", "--force", cid)


def make_bundle(base: Path, busybox_root: Path, args: list[str], **process) -> Path:
    bundle = base / f"bundle-{time.monotonic_ns()}"
    bundle.mkdir()
    shutil.copytree(busybox_root, bundle / "rootfs", symlinks=True)
    subprocess.run(sandvisor_cmd() + ["spec", "--bundle", str(bundle)], check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"].update({"terminal": False, "args": args, **process})
    config["root"]["readonly"] = False
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def test_state_of_missing_container_fails(oci):
    rc, _, err, _ = oci("state", "nope")
    assert rc == 1 and 'level=error msg="container does not exist"' in err


def test_create_with_missing_bundle_fails(oci, tmp_path):
    rc, _, err, _ = oci("create", "--bundle", str(tmp_path / "missing"), "c1")
    assert rc == 1 and "no such directory" in err
    assert not (oci.root / "c1").exists()


def test_lifecycle_like_runc(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["sh", "-c", LOOP])
    pid_file = tmp_path / "c.pid"
    rc, _, err, create_out = oci("create", "--bundle", str(bundle), "--pid-file", str(pid_file), "c")
    assert rc == 0, err
    sentry_pid = int(pid_file.read_text())
    assert os.path.exists(f"/proc/{sentry_pid}")
    state = json.loads(oci("state", "c")[1])
    assert state["status"] == "created" and state["id"] == "c"
    assert state["bundle"] == str(bundle) and state["rootfs"] == str(bundle / "rootfs")
    assert state["ociVersion"] and state["created"].endswith("Z") and state["pid"] > 0
    assert "started" not in create_out.read_text()  # created, not started
    listing = json.loads(oci("list", "--format", "json")[1])
    assert [s["id"] for s in listing] == ["c"]

    assert oci("start", "c")[0] == 0
    assert wait_for(lambda: "started" in create_out.read_text())
    assert json.loads(oci("state", "c")[1])["status"] == "running"
    rc, _, err, _ = oci("start", "c")
    assert rc == 1 and "cannot start an already running container" in err

    rc, out, _, _ = oci("exec", "c", "sh", "-c", "echo exec-out; exit 4")
    assert (rc, out) == (4, "exec-out\n")
    exec_pid_file = tmp_path / "exec.pid"
    assert oci("exec", "--detach", "--pid-file", str(exec_pid_file), "c", "sleep", "1")[0] == 0
    assert int(exec_pid_file.read_text()) > 0

    pids = json.loads(oci("ps", "--format", "json", "c")[1])
    assert state["pid"] in pids

    assert oci("pause", "c")[0] == 0
    assert json.loads(oci("state", "c")[1])["status"] == "paused"
    assert oci("resume", "c")[0] == 0
    assert json.loads(oci("state", "c")[1])["status"] == "running"

    rc, _, err, _ = oci("delete", "c")
    assert rc == 1 and "cannot delete container c that is not stopped: running" in err

    assert oci("kill", "c", "TERM")[0] == 0
    assert wait_for(lambda: json.loads(oci("state", "c")[1])["status"] == "stopped")
    assert "got-TERM" in create_out.read_text()
    assert json.loads(oci("state", "c")[1])["pid"] == 0
    rc, _, err, _ = oci("kill", "c", "KILL")
    assert rc == 1 and "container not running" in err
    assert oci("delete", "c")[0] == 0
    rc, _, err, _ = oci("state", "c")
    assert rc == 1 and "container does not exist" in err
    assert oci("delete", "c")[0] == 1
    assert oci("delete", "--force", "c") == (0, "", "", oci.logs / f"{oci.n}.out")
    assert wait_for(lambda: not os.path.exists(f"/proc/{sentry_pid}")
                    or open(f"/proc/{sentry_pid}/stat").read().split(") ")[1][0] == "Z")


def test_duplicate_id_is_refused_and_the_first_survives(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["sleep", "30"])
    assert oci("create", "--bundle", str(bundle), "d")[0] == 0
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "d")
    assert rc == 1 and "container with given ID already exists" in err
    assert json.loads(oci("state", "d")[1])["status"] == "created"
    assert oci("delete", "--force", "d")[0] == 0


@pytest.mark.parametrize("script,code", [("exit 3", 3), ("exit 42", 42), ("kill -9 $$; exit 0", 0)])
def test_run_exit_status(oci, tmp_path, busybox_root, script, code):
    # pid 1 ignores its own signals, as with runc (oci-clients.md gotcha 15)
    bundle = make_bundle(tmp_path, busybox_root, ["sh", "-c", script])
    rc, _, err, _ = oci("run", "--bundle", str(bundle), f"r{code}")
    assert rc == code, err
    assert not (oci.root / f"r{code}").exists()


def test_kill_9_gives_137(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["sleep", "30"])
    proc = subprocess.Popen(sandvisor_cmd() + ["--root", str(oci.root), "run", "--bundle",
                                               str(bundle), "k"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: oci("state", "k")[0] == 0
                    and json.loads(oci("state", "k")[1])["status"] == "running")
    assert oci("kill", "k", "9")[0] == 0
    assert proc.wait(timeout=20) == 137


@pytest.mark.parametrize("args,needle", [
    (["/nope"], "no such file or directory"),
    (["nope-cmd"], "executable file not found"),
    (["/etc/passwd"], "permission denied"),
])
def test_create_reports_unrunnable_commands_like_runc(oci, tmp_path, busybox_root, args, needle):
    bundle = make_bundle(tmp_path, busybox_root, args)
    log = tmp_path / "log.json"
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "bad", global_args=(
        "--log", str(log), "--log-format", "json"))
    assert rc == 1 and needle in err
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and needle in entry["msg"]
    assert not (oci.root / "bad").exists()


def test_hooks_receive_the_state(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["true"])
    record = tmp_path / "hooks.log"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\n{{ echo \"$1\"; cat; echo; }} >> {record}\n")
    hook.chmod(0o755)
    config = json.loads((bundle / "config.json").read_text())
    config["hooks"] = {kind: [{"path": str(hook), "args": ["hook.sh", kind]}]
                       for kind in ("createRuntime", "poststart", "poststop")}
    (bundle / "config.json").write_text(json.dumps(config))
    assert oci("run", "--bundle", str(bundle), "h")[0] == 0
    lines = record.read_text().split("\n")
    kinds = lines[0::2]
    assert kinds[:3] == ["createRuntime", "poststart", "poststop"]
    assert json.loads(lines[1])["id"] == "h"


def test_create_says_why_the_process_cannot_start(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["true"], cwd="/no/such/dir")
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "w")
    assert rc == 1 and "cannot enter the working directory /no/such/dir" in err


def test_unsupported_config_is_refused(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["true"])
    config = json.loads((bundle / "config.json").read_text())
    config["linux"]["namespaces"].append({"type": "user"})
    (bundle / "config.json").write_text(json.dumps(config))
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "u")
    assert rc == 1 and "user namespaces are not supported" in err
    (bundle / "config.json").write_text("{not json")
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "u")
    assert rc == 1 and "cannot read" in err


@pytest.mark.parametrize("cpus,needle", [("4096", "CPUs 4096 are not available here"),
                                         ("a-b", "linux.resources.cpu.cpus 'a-b'")])
def test_create_says_what_is_wrong_with_the_cpuset(oci, tmp_path, busybox_root, cpus, needle):
    bundle = make_bundle(tmp_path, busybox_root, ["true"])
    config = json.loads((bundle / "config.json").read_text())
    config["linux"].setdefault("resources", {})["cpu"] = {"cpus": cpus}
    (bundle / "config.json").write_text(json.dumps(config))
    rc, _, err, _ = oci("create", "--bundle", str(bundle), "c")
    assert rc == 1 and needle in err, err
    assert not (oci.root / "c").exists()


def test_cpuset_confines_the_container(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root,
                         ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"])
    config = json.loads((bundle / "config.json").read_text())
    config["linux"].setdefault("resources", {})["cpu"] = {"cpus": "1"}
    (bundle / "config.json").write_text(json.dumps(config))
    rc, out, err, _ = oci("run", "--bundle", str(bundle), "cs")
    assert rc == 0 and out.split()[-1] == "1", err


def test_bind_mounts_readonly_root_and_user(oci, tmp_path, busybox_root):
    data = tmp_path / "data"
    data.mkdir()
    bundle = make_bundle(tmp_path, busybox_root,
                         ["sh", "-c", "id -u; echo w > /data/f; touch /rootfile; echo rc=$?"],
                         user={"uid": 1000, "gid": 1000})
    config = json.loads((bundle / "config.json").read_text())
    config["root"]["readonly"] = True
    config["mounts"].append({"destination": "/data", "type": "bind", "source": str(data),
                             "options": ["rw", "rbind"]})
    (bundle / "config.json").write_text(json.dumps(config))
    os.chmod(data, 0o777)
    os.chmod(bundle / "rootfs", 0o755)
    rc, out, err, _ = oci("run", "--bundle", str(bundle), "m")
    assert rc == 0, err
    assert out.split() == ["1000", "rc=1"]
    assert (data / "f").read_text() == "w\n"
    assert not (bundle / "rootfs" / "rootfile").exists()


def _console_server(path: Path, got: list):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        fds = array.array("i")
        _msg, anc, _f, _a = conn.recvmsg(1024, socket.CMSG_SPACE(4))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:4])
        got.extend(fds)
        conn.close()
        srv.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_terminal_master_goes_to_the_console_socket(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["sh", "-c", "tty; read x; echo got $x; exit 3"],
                         terminal=True)
    sock_path = tmp_path / "console.sock"
    got: list[int] = []
    thread = _console_server(sock_path, got)
    assert oci("create", "--bundle", str(bundle), "--console-socket", str(sock_path), "t")[0] == 0
    thread.join(10)
    assert len(got) == 1
    master = got[0]
    assert oci("start", "t")[0] == 0
    os.write(master, b"hello\n")
    output = b""
    end = time.monotonic() + 10
    while b"got hello" not in output and time.monotonic() < end:
        try:
            output += os.read(master, 1024)
        except OSError:
            break
    os.close(master)
    assert b"/dev/pts/0" in output and b"got hello" in output
