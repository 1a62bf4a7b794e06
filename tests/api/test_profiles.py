"""Policy profiles (--profile) and learn mode (--learn)."""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import run_do

PROGRAM = """
import json, os
os.makedirs("/tmp/learn-out", exist_ok=True)
with open("/tmp/learn-out/r.json", "w") as f:
    json.dump({"a": 1}, f)
print(open("/etc/hostname").read().strip() != "", json.load(open("/tmp/learn-out/r.json")))
"""


def test_learn_then_enforce_round_trip(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    learned = tmp_path / "learned.toml"
    first = run_do(["--learn", str(learned), "--", "python3", str(script)])
    assert first.returncode == 0 and "wrote the learned profile" in first.stderr
    profile = tomllib.loads(learned.read_text())
    readable = profile["filesystem"]["readable"]
    assert "/etc/hostname" in readable and "/etc" not in readable
    assert "/tmp" in profile["filesystem"]["overlay"]
    second = run_do(["--profile", str(learned), "--", "python3", str(script)])
    assert (second.returncode, second.stdout) == (0, first.stdout)
    # a changed program that reaches further is refused, and the refusal reported
    # (/etc/shells: python's start-up never reads it; it reads /etc/passwd when HOME is unset)
    assert "/etc/shells" not in readable
    changed = tmp_path / "changed.py"
    changed.write_text(PROGRAM + "print(open('/etc/shells').read()[:4])\n")
    res = run_do(["--profile", str(learned), "--", "python3", str(changed)])
    assert res.returncode == 1 and "No such file or directory: '/etc/shells'" in res.stderr
    assert "refused" in res.stderr and "/etc/shells" in res.stderr.splitlines()[-1]


def test_default_profile_is_deny_by_default(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("HOST")
    res = run_do(["--profile", "default", "--cwd", "/", "--", "sh", "-c",
                  f"cat {secret}; cat /etc/shadow; ls /root; echo ok > /tmp/x && cat /tmp/x;"
                  "echo x > /etc/x"])
    assert "HOST" not in res.stdout and "ok" in res.stdout
    assert res.stderr.count("No such file or directory") >= 3
    assert "Read-only file system" in res.stderr


def test_profile_denies_syscalls_limits_and_env(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text("""
[syscalls]
deny = ["socket"]
[limits]
pids = 10
[env]
pass = ["PATH"]
set = { GREETING = "hi" }
""")
    res = run_do(["--profile", str(prof), "--", "python3", "-c",
                  "import os, socket\nprint(os.environ.get('GREETING'), os.environ.get('HOME'))\n"
                  "try:\n socket.socket()\nexcept PermissionError:\n print('denied')"],
                 env={"PATH": "/usr/bin:/bin", "HOME": "/root"})
    assert res.stdout.split() == ["hi", "None", "denied"], res.stderr


@pytest.mark.parametrize("text,needle", [
    ("[nonsense]\n", "unknown section [nonsense]"),
    ("[filesystem]\nreadable = ['relative']\n", "must be a list of absolute paths"),
    ("[network]\nmode = 'example.com:443'\n", "allow-lists are not supported yet"),
    ("[syscalls]\ndeny = ['nosuchcall']\n", "unknown syscall 'nosuchcall'"),
    ("not toml [", "--profile"),
])
def test_bad_profiles_exit_125(tmp_path, text, needle):
    prof = tmp_path / "bad.toml"
    prof.write_text(text)
    res = run_do(["--profile", str(prof), "--", "true"])
    assert res.returncode == 125 and needle in res.stderr
