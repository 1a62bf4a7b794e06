"""The directory cache of direct file access (gofer/server.py DirCache), in a sandbox:
what it keeps never hides a change. A directory renamed or removed in the sandbox is
not found at its old path; a volume and a root the host owns are walked every time, so
the host's changes show; a caller that is not root is never served from it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from sentry.config import SandboxConfig
from sentry.runner import _dirs_cacheable
from tests.conftest import BUSYBOX, do_args, run_do, sandvisor_cmd

WAIT_FOR_GO = "while [ ! -e /go ] && [ ! -e /v/go ]; do sleep 0.02; done"


def test_rename_directory_is_not_found_at_its_old_path():
    script = ("cd $(mktemp -d) && mkdir -p a/b && echo one > a/b/f && cat $PWD/a/b/f && "
              "mv a old && mkdir -p a/b && echo two > a/b/f && cat $PWD/a/b/f $PWD/old/b/f && "
              "mkdir x && mv a/b x/b && cat $PWD/x/b/f && ls -A $PWD/a && "
              "mv -T --exchange old x 2>/dev/null || python3 -c 'import os; "
              "os.rename(\"old\", \"y\"); os.rename(\"x\", \"old\")'; cat $PWD/old/b/f")
    res = run_do(["--", "sh", "-c", script])
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["one", "two", "one", "two", "two"], res.stdout + res.stderr


def test_rmdir_directory_is_not_found_after_it_is_made_again():
    script = ("cd $(mktemp -d) && mkdir -p d/e && touch d/e/old && stat -c %n $PWD/d/e/old "
              "&& rm -r d && mkdir -p d/e && touch d/e/new && ls $PWD/d/e")
    res = run_do(["--", "sh", "-c", script])
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[1:] == ["new"] and res.stdout.endswith("new\n")


def test_chmod_dir_stops_another_user_after_root_walked_it():
    """root's walks are cached; a user's are not: the mode root set applies to it."""
    as_user = "setpriv --reuid=1000 --regid=1000 --clear-groups"
    script = ("cd $(mktemp -d) && chmod 755 . && mkdir -p p/q && echo secret > p/q/f && "
              f"chmod 755 p && {as_user} cat $PWD/p/q/f && cat $PWD/p/q/f && chmod 700 p && "
              f"cat $PWD/p/q/f && {as_user} cat $PWD/p/q/f; echo $?")
    res = run_do(["--", "sh", "-c", script])
    assert res.stdout.split() == ["secret", "secret", "secret", "1"], res.stdout + res.stderr
    assert "Permission denied" in res.stderr


def _run_while_host_changes(args: list[str], script: str, change) -> str:
    """Run `script` (which reads, waits for a /go file, then reads again) while `change`
    rearranges a host directory once the first read is out."""
    proc = subprocess.Popen(sandvisor_cmd() + do_args(args + ["--", *script]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        change()
        rest, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    return first + rest


def _replace_a(top) -> None:
    """What the host does: a/ moved aside, a new a/b/f in its place, then the go."""
    (top / "a").rename(top / "a.was")
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "f").write_text("new\n")
    (top / "go").touch()


def test_volume_changed_by_the_host_is_seen(tmp_path):
    vol = tmp_path / "vol"
    (vol / "a" / "b").mkdir(parents=True)
    (vol / "a" / "b" / "f").write_text("old\n")
    out = _run_while_host_changes(
        ["-v", f"{vol}:/v"], ["sh", "-c", f"cat /v/a/b/f; {WAIT_FOR_GO}; cat /v/a/b/f"],
        lambda: _replace_a(vol))
    assert out.split() == ["old", "new"]


def test_root_the_host_owns_is_walked_every_time(tmp_path):
    """--overlay none: the root is the host's directory, read-only inside, and what the
    host does to it shows."""
    root = tmp_path / "root"
    for d in ("bin", "proc", "sys", "dev", "tmp", "a/b"):
        (root / d).mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    (root / "a" / "b" / "f").write_text("old\n")
    script = f"cat /a/b/f; {WAIT_FOR_GO}; cat /a/b/f"
    out = _run_while_host_changes(["--root", str(root), "--overlay", "none", "--cwd", "/"],
                                  ["/bin/busybox", "sh", "-c", script], lambda: _replace_a(root))
    assert out.split() == ["old", "new"]


@pytest.mark.parametrize("overlay, rootless, cacheable", [
    ("memory", False, True), ("dir=/var/tmp/up", False, True), ("empty", False, True),
    ("none", False, False), ("bind", False, False), ("memory", True, False),
])
def test_dir_cache_only_for_an_owned_root_and_a_root_that_overrides_modes(overlay, rootless,
                                                                         cacheable):
    cfg = SandboxConfig(argv=["true"], overlay=overlay, rootless=rootless)
    assert _dirs_cacheable(cfg) is cacheable
