"""`sandvisor do` options: identity, environment, hostname, cwd, terminal, strace."""

from __future__ import annotations

import subprocess

from tests.conftest import run_do, sandvisor_cmd


def test_user_option_sets_ids_and_file_ownership():
    res = run_do(["--user", "1000:1000", "--cwd", "/tmp", "--", "sh", "-c",
                  "id -u; id -g; touch /tmp/u1; stat -c '%u:%g' /tmp/u1; mkdir /tmp/d1;"
                  "stat -c '%u:%g' /tmp/d1; cat /etc/shadow; touch /etc/nope"])
    assert res.stdout.split() == ["1000", "1000", "1000:1000", "1000:1000"]
    assert res.stderr.count("Permission denied") == 2, res.stderr


def test_env_hostname_cwd():
    res = run_do(["-e", "FOO=bar", "-e", "EMPTY=", "--hostname", "box1", "--cwd", "/usr", "--",
                  "sh", "-c", 'echo "$FOO|$EMPTY|$(hostname)|$(pwd)|$(uname -n)"'])
    assert res.stdout.strip() == "bar||box1|/usr|box1"


def test_umask_applies_to_created_files():
    res = run_do(["--", "sh", "-c", "umask 077; f=$(mktemp -u /tmp/m.XXXX); touch $f; mkdir $f.d;"
                  "stat -c %a $f $f.d"])
    assert res.stdout.split() == ["600", "700"]


def test_pipes_reopened_through_proc_fd():
    res = run_do(["--", "bash", "-c", "cat <(echo procsub); echo piped | cat /dev/stdin;"
                  "echo sub > >(cat); wait"])
    assert res.stdout.split() == ["procsub", "piped", "sub"], res.stderr


def test_controlling_terminal_is_usable_inside():
    cmd = " ".join(sandvisor_cmd()) + " do -- sh -c 'tty; echo to-tty > /dev/tty'"
    out = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL).stdout
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[0].startswith("/dev/pts/") and "to-tty" in lines, out


def test_strace_syscalls_filters_and_log_size_cuts(tmp_path):
    log = tmp_path / "strace.log"
    long_name = "/no/" + "x" * 100
    res = run_do(["--strace-log", str(log), "--strace-syscalls", "openat,mkdir",
                  "--strace-log-size", "12", "--", "sh", "-c", f"cat {long_name}; mkdir /tmp/q"])
    assert res.returncode == 0, res.stderr
    lines = log.read_text().splitlines()
    names = {line.split("] ", 1)[1].split("(", 1)[0] for line in lines}
    assert names == {"openat", "mkdir"}, names
    opened = [line for line in lines if "/no/xxx" in line]
    assert opened and all("x" * 13 not in line for line in opened)   # cut at 12 bytes
    assert any("'/no/xxxxxxxx'..." in line for line in opened)


def test_strace_syscalls_refuses_unknown_names():
    res = run_do(["--strace-syscalls", "openat,no_such_call", "--", "true"])
    assert res.returncode == 125 and "no_such_call" in res.stderr


def test_strace_log_decodes_paths_and_errors(tmp_path):
    log = tmp_path / "strace.log"
    res = run_do(["--strace-log", str(log), "--", "cat", "/no/such/file"])
    assert res.returncode == 1
    text = log.read_text()
    assert "openat(AT_FDCWD, '/no/such/file', O_RDONLY" in text and "ENOENT" in text
    assert "<emulate>" in text and "<host>" in text


def test_cpuset_cpus_confines_the_application_and_the_sentry():
    """--cpuset-cpus: the application runs on those CPUs only, cannot widen its own
    affinity (a cgroup cpuset), and the sentry runs there too."""
    proc = subprocess.Popen(sandvisor_cmd() + ["do", "--cpuset-cpus", "0", "--", "sh", "-c",
                                               "grep Cpus_allowed_list /proc/self/status;"
                                               "taskset -p -c 0,1 $$ > /dev/null;"
                                               "grep Cpus_allowed_list /proc/self/status;"
                                               "cat /sys/fs/cgroup/cpuset/cpuset.cpus; read x"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().split()[-1] for _ in range(3)]
        with open(f"/proc/{proc.pid}/status") as f:
            sentry = [line.split()[-1] for line in f if line.startswith("Cpus_allowed_list")]
        proc.stdin.write("\n")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert lines == ["0", "0", "0"]
    assert sentry == ["0"]


def test_cpuset_cpus_says_what_is_wrong():
    res = run_do(["--cpuset-cpus", "4096", "--", "true"])
    assert res.returncode == 125
    assert "cpuset 4096: CPUs 4096 are not available here; this process may use 0" in res.stderr
    res = run_do(["--cpuset-cpus", "1-0", "--", "true"])
    assert res.returncode == 125 and "runs backwards" in res.stderr
