"""Fixtures of the attack catalogue: the attack programs (static C), a busybox root
holding them, a host secret planted outside the root, and a guard asserting that the
host was left untouched by every test."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (Result, alive, build_static, comm, descendants,  # noqa: F401
                            do_args, sandvisor_cmd, wait_for)

PROGS = Path(__file__).resolve().parent / "progs"


@pytest.fixture(scope="session")
def security_progs(tmp_path_factory) -> dict[str, Path]:
    """tests/security/progs/*.c built static (the busybox root has no libc)."""
    return build_static(PROGS, tmp_path_factory.mktemp("secprogs"))


@pytest.fixture(scope="session")
def sec_root(busybox_root, security_progs) -> Path:
    """The busybox root with the attack programs in /bin and a /ro mount point."""
    for name, exe in security_progs.items():
        shutil.copy2(exe, busybox_root / "bin" / name)
    (busybox_root / "ro").mkdir(exist_ok=True)
    (busybox_root / "rw").mkdir(exist_ok=True)
    return busybox_root


@dataclass
class Secret:
    dir: Path
    path: Path
    token: str
    ino: int
    script: Path  # an executable outside the root that would print the token

    @property
    def rel_dir(self) -> str:
        return str(self.dir).lstrip("/")


@pytest.fixture
def secret(tmp_path) -> Secret:
    """A host directory outside the sandbox root, holding a random secret of exactly
    777 bytes and a script printing it."""
    d = tmp_path / "hostdir"
    d.mkdir()
    token = "HOSTSECRET" + secrets.token_hex(16)
    path = d / "secret"
    path.write_text((token * 30)[:777])
    os.chmod(path, 0o640)
    os.utime(path, (1_000_000, 1_000_000))
    script = d / "evil.sh"
    script.write_text(f"#!/bin/sh\necho {token}\n")
    os.chmod(script, 0o755)
    return Secret(d, path, token, path.stat().st_ino, script)


def _tree(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            entry = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ino)
            if os.path.islink(full):
                entry += (os.readlink(full),)
            elif os.path.isfile(full):
                with open(full, "rb") as f:
                    entry += (hashlib.sha256(f.read()).hexdigest(),)
            out[os.path.relpath(full, root)] = entry
    return out


_SYSCTLS = ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/swappiness",
            "/proc/sys/fs/file-max", "/proc/sys/kernel/hostname")


def _host_state(root: Path, secret_dir: Path | None) -> dict:
    state = {"root": _tree(root),
             "sysctl": {p: Path(p).read_text() for p in _SYSCTLS if os.path.exists(p)}}
    if secret_dir is not None:
        state["secret"] = _tree(secret_dir)
    with open("/proc/self/mountinfo") as f:
        state["mounts"] = {line.split(" ", 4)[4] for line in f
                           if "sandvisor" in line}
    return state


@pytest.fixture
def host_guard(sec_root, secret):
    """Snapshot the host before the attack and compare after it: the sandbox root, the
    secret's directory, a few global sysctls, sandvisor mounts in the host's table."""
    before = _host_state(sec_root, secret.dir)
    yield
    after = _host_state(sec_root, secret.dir)
    for key in before:
        assert after[key] == before[key], f"host changed: {key}"


def start_do(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(sandvisor_cmd() + do_args(args), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/tmp")


def finish(proc: subprocess.Popen, timeout: float = 90, input: bytes | None = None) -> Result:
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in descendants(proc.pid):
            try:
                os.kill(p, 9)
            except OSError:
                pass
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"sandvisor hung: {out[-2000:]!r} {err[-2000:]!r}")
    return Result(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def run_sandbox(root: Path, argv: list[str], *extra: str, timeout: float = 90,
                input: bytes | None = None) -> Result:
    proc = start_do(["--root", str(root), "--timeout", "60", *extra, "--", *argv])
    return finish(proc, timeout=timeout, input=input)


def assert_held(res: Result, secret: Secret) -> None:
    """The boundary held: no secret in any output, no ESCAPE line, no sentry failure."""
    both = res.stdout + res.stderr
    assert secret.token not in both, both[-3000:]
    assert "ESCAPE" not in res.stdout, res.stdout[-3000:]
    assert res.returncode not in (124, 125), (res.returncode, res.stderr[-3000:])
    assert "Traceback" not in res.stderr, res.stderr[-3000:]


def results(res: Result) -> dict[str, str]:
    """`label ret=R errno=E` lines as {label: E or 'ok'}."""
    out = {}
    for line in res.stdout.splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and parts[1].startswith("ret=") and parts[2].startswith("errno="):
            err = parts[2][6:]
            out[parts[0]] = "ok" if err == "none" else err
    return out
