"""Both file-access modes: direct (the default: the sentry walks beneath the root the
gofer donated) and gofer (every file operation is a request to the gofer process)
give the same results and the same confinement."""

from __future__ import annotations

import pytest

from tests.conftest import run_do, run_native
from tests.integration.test_programs import FILE_WORK

MODES = ["direct", "gofer"]


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
