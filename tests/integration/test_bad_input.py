"""Bad input gets one clear line and the exit status a user can act on."""

from __future__ import annotations

import pytest

from tests.conftest import run_do


def test_missing_command_exits_127():
    res = run_do(["--", "no-such-command-xyz"])
    assert res.returncode == 127
    assert "no-such-command-xyz: no such file or directory" in res.stderr


def test_not_executable_exits_126(tmp_path):
    script = tmp_path / "plain.txt"
    script.write_text("echo hi\n")
    res = run_do(["--", str(script)])
    assert res.returncode == 126
    assert "permission denied" in res.stderr


@pytest.mark.parametrize("args,needle", [
    (["-v", "nocolon"], "--volume 'nocolon': use HOST:SANDBOX[:ro|rw]"),
    (["-v", "/tmp:/x:rx"], "use HOST:SANDBOX[:ro|rw]"),
    (["-v", "relative:/x"], "both paths must be absolute"),
    (["-v", "/no/such/dir:/x"], "does not exist on the host"),
    (["--root", "/no/such/root"], "--root /no/such/root: no such directory"),
    (["--root", "relative/root"], "give an absolute path"),
    (["--overlay", "bogus"], "use none, memory or dir=PATH"),
    (["--user", "bob"], "use numeric UID[:GID]"),
    (["--cwd", "rel"], "give an absolute path inside the sandbox"),
    (["--platform", "nonesuch"], "unknown platform 'nonesuch'"),
    # output files: checked before anything starts, not a traceback when first written
    (["--debug-log", "/no/such/dir/d.log"], "--debug-log /no/such/dir/d.log: no directory"),
    (["--strace-log", "/no/such/dir/s.log"], "--strace-log /no/such/dir/s.log: no directory"),
    (["--audit-log", "/tmp"], "--audit-log /tmp: is a directory"),
    (["--result-json", "/no/such/dir/r.json"], "--result-json /no/such/dir/r.json: no directory"),
])
def test_bad_options_exit_125_with_one_line(args, needle):
    res = run_do([*args, "--", "true"])
    assert res.returncode == 125
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sandvisor: ") and needle in lines[0], res.stderr


def test_cwd_missing_inside_exits_125():
    res = run_do(["--cwd", "/no/such/dir", "--", "true"])
    assert res.returncode == 125
    assert "/no/such/dir" in res.stderr

