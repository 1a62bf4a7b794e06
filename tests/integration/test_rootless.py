"""Rootless: the same sandboxes run by an unprivileged user (sentry/userns.py).

Every test here runs sandvisor as a real unprivileged account (created if missing),
and where it makes sense compares with the same run as root.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest

from tests.conftest import REPO, do_args

USER = "sandvisor-rootless"


@pytest.fixture(scope="session")
def user() -> pwd.struct_passwd:
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        pw = pwd.getpwnam(USER)
    probe = as_user(pw, [sys.executable, "-c", "import sentry"])
    assert probe.returncode == 0, (
        f"{USER} cannot run this checkout's interpreter {sys.executable} ({probe.stderr.strip()}):"
        " the checkout and its .venv must be readable by other users (setup/install.sh builds"
        " the venv on /usr/bin/python3)")
    return pw


def as_user(pw, argv, *, input: str | None = None, timeout: float = 120, cwd: str | None = None):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": pw.pw_dir, "LANG": "C.UTF-8",
           "USER": pw.pw_name, "LOGNAME": pw.pw_name, "PYTHONPATH": str(REPO)}
    return subprocess.run(argv, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], env=env,
                          cwd=cwd or pw.pw_dir, capture_output=True, text=True, input=input,
                          timeout=timeout)


def do_as_user(pw, args, **kw):
    return as_user(pw, [sys.executable, "-m", "sentry", *do_args(args)], **kw)


def do_as_root(args, **kw):
    return subprocess.run([sys.executable, "-m", "sentry", *do_args(args)], capture_output=True,
                          text=True, timeout=120, cwd="/tmp", **kw)


WORK = textwrap.dedent("""\
    set -e
    cd /tmp && mkdir -p w/a/b && cd w
    for i in 3 1 2; do echo line$i > a/b/f$i; done
    cp -r a c && mv c d && ln -s d/b link && find . | sort
    cat link/f* | sort -r
    tar cf t.tar a && mkdir x && tar xf t.tar -C x && ls -R x | sort
    sed -i s/line/LINE/ a/b/f1 && cat a/b/f1 && rm -r d && ls
    python3 -c "import sqlite3, json; c = sqlite3.connect('/tmp/w/db'); \\
    c.execute('create table t (x)'); c.execute('insert into t values (41)'); c.commit(); \\
    print(json.dumps(c.execute('select x + 1 from t').fetchall()))"
    """)


@pytest.mark.parametrize("mode", ["direct", "gofer"])
def test_rootless_run_matches_the_run_as_root(user, mode):
    # gofer: the gofer process serves under a namespace where setgroups is denied (it
    # once tried it on every request, and every exec and open failed with EPERM)
    mine = do_as_user(user, ["--file-access", mode, "--cwd", "/tmp", "--", "sh", "-c", WORK])
    root = do_as_root(["--file-access", mode, "--cwd", "/tmp", "--", "sh", "-c", WORK])
    assert root.returncode == 0, root.stderr
    assert (mine.returncode, mine.stdout, mine.stderr) == (0, root.stdout, root.stderr)


def test_rootless_identity_is_the_callers_single_mapped_id(user):
    res = do_as_user(user, ["--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map; hostname"])
    uid_line = f"{user.pw_uid} {user.pw_uid} 1"
    lines = res.stdout.split("\n")
    assert res.returncode == 0, res.stderr
    assert lines[:2] == [str(user.pw_uid), str(user.pw_gid)]
    assert " ".join(lines[2].split()) == uid_line and lines[3] == "sandvisor"
    # --user 0: root inside, still the caller outside, and still no write to the host's /etc
    res = do_as_user(user, ["--user", "0", "--", "sh", "-c",
                            "id -u; cat /proc/self/uid_map; touch /etc/rootless-probe"])
    assert res.stdout.split("\n")[0] == "0"
    assert res.stdout.split("\n")[1].split() == ["0", str(user.pw_uid), "1"]
    assert res.returncode == 1 and "Read-only file system" in res.stderr
    assert not os.path.exists("/etc/rootless-probe")


def test_rootless_writes_stay_in_memory(user):
    home = user.pw_dir
    script = (f"echo t > /tmp/rootless-note && echo h > {home}/rootless-note && "
              f"mkdir {home}/sub && cat /tmp/rootless-note {home}/rootless-note; "
              "echo x > /usr/rootless-probe; echo $?")
    res = do_as_user(user, ["--", "sh", "-c", script])
    assert res.returncode == 0, res.stderr
    assert res.stdout == "t\nh\n2\n"   # sh's status for a failed redirection
    assert "/usr/rootless-probe" in res.stderr   # refused, as natively for this user
    for path in ("/tmp/rootless-note", f"{home}/rootless-note", f"{home}/sub",
                 "/usr/rootless-probe"):
        assert not os.path.exists(path), path


def test_rootless_volume_writes_reach_the_host(user):
    shared = os.path.join(user.pw_dir, "shared")
    os.makedirs(shared, exist_ok=True)
    os.chown(shared, user.pw_uid, user.pw_gid)
    res = do_as_user(user, ["-v", f"{shared}:/data", "--", "sh", "-c",
                            "echo out > /data/f && ls -ln /data/f"])
    assert res.returncode == 0, res.stderr
    with open(os.path.join(shared, "f")) as f:
        assert f.read() == "out\n"
    st = os.stat(os.path.join(shared, "f"))
    assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid)   # the caller's own file


def test_rootless_host_processes_and_network_are_invisible(user):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        probe = (f"import socket, os; s = socket.socket(); s.settimeout(2)\n"
                 f"try: s.connect(('127.0.0.1', {port})); print('reached')\n"
                 f"except OSError as e: print('refused', e.errno)\n"
                 f"print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
        res = do_as_user(user, ["--", "python3", "-c", probe])
    finally:
        server.close()
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("refused")
    assert json.loads(lines[1]) == [1, 2]   # init and the application, nothing of the host's


def test_rootless_ptrace_platform_runs(user):
    res = do_as_user(user, ["--platform", "ptrace", "--", "sh", "-c",
                            "echo x > /tmp/f && cat /tmp/f && id -u"])
    assert (res.returncode, res.stdout) == (0, f"x\n{user.pw_uid}\n"), res.stderr


LIMITS = textwrap.dedent("""\
    import json
    from sentry.api import Limits, Sandbox
    runs = {
        "cpu": Sandbox(limits=Limits(cpu_seconds=1)).run(["python3", "-c", "while True: pass"]),
        "time": Sandbox(limits=Limits(wall_seconds=1)).run(["sleep", "30"]),
        "output": Sandbox(limits=Limits(output_bytes=100_000)).run(["sh", "-c", "yes flood"]),
        "disk": Sandbox(limits=Limits(disk_bytes="8m")).run(
            ["sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=64"]),
        "memory": Sandbox(limits=Limits(memory="64m", wall_seconds=30)).run(
            ["python3", "-c", "b = bytearray(300 * 1024 * 1024); print(len(b))"]),
        "pids": Sandbox(limits=Limits(pids=30, wall_seconds=30)).run(
            ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 2"]),
    }
    print(json.dumps({k: [r.limit, r.status, r.stdout.decode()[-200:], r.stderr.decode()[-300:]]
                      for k, r in runs.items()}))
    """)


def test_rootless_limits_end_runs_with_their_reason(user):
    res = as_user(user, [sys.executable, "-c", LIMITS], timeout=240)
    assert res.returncode == 0, res.stderr
    runs = json.loads(res.stdout)
    for reason in ("cpu", "time", "output", "disk"):
        assert runs[reason][0] == reason, (reason, runs[reason])
    # no cgroup for an unprivileged user here: memory is sampled and the hog killed as
    # the OOM killer would; pids is RLIMIT_NPROC, which the program meets as a failed fork
    limit, status, out, err = runs["memory"]
    assert (limit, status, out) == ("memory", 137, ""), runs["memory"]
    limit, status, out, err = runs["pids"]
    assert limit == "pids" and "fork" in err.lower(), runs["pids"]


FORBID_USERNS = textwrap.dedent("""\
    import errno, os, sys
    import pyseccomp as seccomp
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(errno.EPERM), "unshare")
    f.load()
    os.execv(sys.executable, [sys.executable, "-m", "sentry", "do", "--", "true"])
    """)


def test_rootless_says_when_the_host_forbids_user_namespaces(user):
    res = as_user(user, [sys.executable, "-c", FORBID_USERNS])
    assert res.returncode == 125
    assert res.stderr.count("\n") == 1 and "forbids unprivileged user namespaces" in res.stderr


def test_unwritable_output_file_named_before_the_run(user):
    # root writes anywhere, so this check of the options (SandboxConfig.check) is made
    # as another user: one line naming the option, exit 125, no traceback
    top = tempfile.mkdtemp(dir="/tmp")   # pytest's tmp_path sits under root's 0700 dir
    try:
        os.chmod(top, 0o755)
        locked = os.path.join(top, "locked")
        os.mkdir(locked, 0o755)
        res = do_as_user(user, ["--audit-log", f"{locked}/a.log", "--", "true"])
        assert res.returncode == 125, res.stderr
        assert res.stderr == (f"sandvisor: --audit-log {locked}/a.log: directory {locked} is "
                              "not writable by this user; choose a path you can write\n")
    finally:
        subprocess.run(["rm", "-rf", top], check=True)
