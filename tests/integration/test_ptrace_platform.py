"""Real programs under `--platform ptrace` give what they give natively (and what they
give under unotify); the platform refuses clearly where it cannot work."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import run_do, run_native, sandvisor_cmd

PTRACE = ["--platform", "ptrace"]

FILE_WORK = r"""
set -e
mkdir -p d/e
echo hello > d/f
cp d/f d/e/g
mv d/e/g d/e/h
ls d d/e
cat d/e/h
rm -r d
ls -A
"""

THREADS = textwrap.dedent("""
    import os, sys, threading
    base = sys.argv[1]
    errors = []
    def work(i):
        try:
            for j in range(40):
                path = f"{base}/t{i}-{j}"
                with open(path, "w") as f:
                    f.write(str(i * j))
                with open(path) as f:
                    assert f.read() == str(i * j)
                os.unlink(path)
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("errors", errors, "left", sorted(os.listdir(base)))
""")

FORKS = textwrap.dedent("""
    import os
    pids = []
    for i in range(20):
        pid = os.fork()
        if pid == 0:
            with open("/etc/passwd") as f:
                f.readline()
            os._exit(i)
        pids.append(pid)
    print(sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids))
""")

# descriptors handed over by the ptrace platform must land where a native open puts
# them, with the right close-on-exec flag, and leave nothing behind
FDS = textwrap.dedent("""
    import ctypes, fcntl, os, signal
    hits = []
    signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    for _ in range(300):
        fd = os.open("/etc/passwd", os.O_RDONLY)
        assert fd == 3, fd
        assert os.read(fd, 5) == open("/etc/passwd", "rb").read(5)
        os.close(fd)
    signal.setitimer(signal.ITIMER_REAL, 0)
    fd = os.open("/etc/passwd", os.O_RDONLY | os.O_CLOEXEC)
    print("cloexec", bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
    os.close(fd)
    fd = ctypes.CDLL(None).open(b"/etc/passwd", os.O_RDONLY)   # os.open adds O_CLOEXEC
    print("inherit", not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
    os.close(fd)
    os.close(0)
    print("lowest", os.open("/etc/passwd", os.O_RDONLY))
    print("fds", sorted(os.listdir("/proc/self/fd")))
""")


def _same(argv, cwd, extra=()):
    native = run_native(argv, cwd=cwd)
    inside = run_do([*PTRACE, *extra, "--cwd", cwd, "--", *argv])
    assert (inside.returncode, inside.stdout, inside.stderr) == \
        (native.returncode, native.stdout, native.stderr)
    return inside


def test_echo(tmp_path):
    res = _same(["echo", "hello", "world"], str(tmp_path))
    assert res.stdout == "hello world\n"


def test_sh_file_work(tmp_path):
    res = _same(["sh", "-c", FILE_WORK], str(tmp_path))
    assert "hello" in res.stdout


def test_python_writes_a_file(tmp_path):
    code = "open('out.txt','w').write('data\\n'); print(open('out.txt').read(), end='')"
    res = _same(["python3", "-c", code], str(tmp_path))
    assert res.stdout == "data\n"


def test_fork_of_20_children(tmp_path):
    res = _same([sys.executable, "-c", FORKS], str(tmp_path))
    assert res.stdout.strip() == str(list(range(20)))


def test_threads_opening_files(tmp_path):
    res = _same([sys.executable, "-c", THREADS, str(tmp_path)], str(tmp_path))
    assert res.stdout.strip() == "errors [] left []"


def test_injected_descriptors(tmp_path):
    res = _same([sys.executable, "-c", FDS], str(tmp_path))
    assert "cloexec True\ninherit True\nlowest 0\nfds ['0', '1', '2', '3']" in res.stdout


def test_signals_held_during_a_hand_over_keep_their_siginfo(static_progs, tmp_path):
    """sigqueue'd signals that arrive while a descriptor is handed over are held back,
    then delivered with the siginfo they came with (the first through PTRACE_SETSIGINFO,
    the rest queued again with rt_tgsigqueueinfo), not as a bare tgkill from nowhere
    (before: 1618 of ~3000 handlers saw SI_TKILL and no value)."""
    res = _same([str(static_progs["siginfo_handover"])], str(tmp_path))
    assert res.stdout == "signals received, wrong siginfo 0\n"


def test_subprocess_vfork_and_exec(tmp_path):
    code = ("import subprocess; print(subprocess.run(['cat', '/etc/hostname'], "
            "capture_output=True, text=True).stdout, end='')")
    _same([sys.executable, "-c", code], str(tmp_path))


@pytest.mark.parametrize("script,status", [("exit 0", 0), ("exit 3", 3), ("kill -9 $$", 137)])
def test_exit_status(script, status):
    res = run_do([*PTRACE, "--", "sh", "-c", script])
    assert res.returncode == status


def test_nonexistent_command():
    res = run_do([*PTRACE, "--", "no-such-command-here"])
    assert res.returncode == 127
    assert "no-such-command-here: no such file or directory" in res.stderr


def test_strace_output_matches_unotify():
    lines = {}
    for platform in ("unotify", "ptrace"):
        res = run_do(["--platform", platform, "--strace", "--", "cat", "/etc/hostname"])
        assert res.returncode == 0
        lines[platform] = [line for line in res.stderr.splitlines() if "openat(" in line]
    assert lines["ptrace"] == lines["unotify"]
    assert any("/etc/hostname" in line and "= 3 " in line for line in lines["ptrace"])


def test_help_platforms_lists_ptrace():
    out = subprocess.run(sandvisor_cmd() + ["help", "platforms"], capture_output=True,
                         text=True).stdout
    assert out.splitlines()[0].startswith("unotify")
    assert any(line.startswith("ptrace") and "usable" in line for line in out.splitlines())


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_already_traced_is_a_clear_error():
    proc = subprocess.run(["strace", "-f", "-o", "/dev/null", *sandvisor_cmd(), "do",
                           *PTRACE, "--", "true"], capture_output=True, text=True, timeout=60,
                          cwd="/tmp")
    assert proc.returncode == 125
    assert "platform ptrace is not usable here: sandvisor is itself being traced by pid" \
        in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ptrace_scope_3_is_a_clear_error(tmp_path):
    scope = tmp_path / "ptrace_scope"
    scope.write_text("3\n")
    code = ("import sys; from sentry import ffi; ffi.YAMA_PTRACE_SCOPE = sys.argv.pop(1); "
            "from sentry.cli import main; sys.argv[0] = 'sandvisor'; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(scope), "do", *PTRACE, "--", "true"],
                          capture_output=True, text=True, timeout=60, cwd="/tmp")
    assert proc.returncode == 125
    assert proc.stderr.strip() == "sandvisor: platform ptrace is not usable here: yama " \
        "ptrace_scope is 3 (no process may use ptrace until reboot)"
