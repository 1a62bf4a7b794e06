"""Shared fixtures: the sandvisor command, a busybox root filesystem, a runner."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# The suite's property tests run the same examples every time (a CI run passes or fails
# on the code, not on a draw); `pytest --hypothesis-profile explore` draws new ones each
# run to hunt for differences (random draws found the trailing-slash and O_EXCL bugs).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
BUSYBOX = "/bin/busybox"


# `pytest --sandbox-platform ptrace` runs every sandbox the tests start on that platform
PLATFORM = {"name": "auto"}


def pytest_addoption(parser):
    parser.addoption("--sandbox-platform", default="auto",
                     help="the --platform every `sandvisor do` in the tests uses")


def pytest_configure(config):
    PLATFORM["name"] = config.getoption("--sandbox-platform")


def sandvisor_cmd() -> list[str]:
    return [sys.executable, "-m", "sentry"]


def do_args(args: list[str]) -> list[str]:
    """`do` plus ARGS, on the platform the run was asked for."""
    if PLATFORM["name"] != "auto" and "--platform" not in args:
        args = ["--platform", PLATFORM["name"], *args]
    return ["do", *args]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_do(args: list[str], *, timeout: float = 60, input: str | None = None,
           cwd: str | None = None, env: dict | None = None) -> Result:
    """Run `sandvisor do ARGS` and capture everything."""
    proc = subprocess.run(sandvisor_cmd() + do_args(args), capture_output=True, text=True,
                          timeout=timeout, input=input, cwd=cwd or "/tmp", env=env)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_native(argv: list[str], *, timeout: float = 60, cwd: str | None = None,
               input: str | None = None) -> Result:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or "/tmp", input=input)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def busybox_root(tmp_path_factory) -> Path:
    """A minimal root filesystem: busybox-static and its applet links."""
    if not os.path.exists(BUSYBOX):
        pytest.fail("busybox-static is not installed: run ./setup/install.sh")
    root = tmp_path_factory.mktemp("bbroot")
    for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "data", "usr/bin"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split()
    for applet in applets:
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "hostname").write_text("inside\n")
    return root


PROGS = Path(__file__).resolve().parent / "integration" / "progs"


def build_static(sources: Path, out: Path) -> dict[str, Path]:
    """Every C program in `sources`, built static (they also run in the busybox root,
    which has no libc)."""
    built = {}
    for src in sorted(sources.glob("*.c")):
        exe = out / src.stem
        subprocess.run(["gcc", "-O1", "-static", "-pthread", "-o", str(exe), str(src)],
                       check=True, capture_output=True)
        built[src.stem] = exe
    return built


@pytest.fixture(scope="session")
def static_progs(tmp_path_factory) -> dict[str, Path]:
    return build_static(PROGS, tmp_path_factory.mktemp("progs"))


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from the kernel's children lists."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        found.update(kids)
        todo.extend(kids)
    return found


def comm(pid: int) -> str:
    """A process's name, or "" once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def alive(pids) -> set[int]:
    """Those of `pids` that still run (zombies do not count)."""
    out = set()
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                if f.read().split(") ", 1)[1][0] != "Z":
                    out.add(p)
        except OSError:
            pass
    return out


def open_fds() -> set[int]:
    """This process's open descriptors (not the listing's own)."""
    out = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue   # the listing's own descriptor, closed by now
        out.add(int(name))
    return out


def child_output(body) -> tuple[int, bytes]:
    """Fork; the child runs `body(report)` and exits 0 (3 if it raised); `report(data)`
    sends bytes back at once, so what came before a kill is kept. Returns (wait
    status, all it reported)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(r)
            body(lambda data: os.write(w, data))
            os._exit(0)
        finally:
            os._exit(3)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return status, b"".join(chunks)


@contextlib.contextmanager
def parked_child(setup):
    """A forked child that runs `setup()` and then waits until the block ends; its
    pid. The block starts once `setup()` has returned."""
    r, w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(w)
            setup()
            os.write(ready_w, b"x")
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 1) == b"x", "the child's set-up failed"
        yield pid
    finally:
        os.close(w)
        os.close(ready_r)
        os.waitpid(pid, 0)


def wait_for(pred, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def bb_root_with_progs(busybox_root, static_progs) -> Path:
    for name, exe in static_progs.items():
        shutil.copy2(exe, busybox_root / "bin" / name)
    return busybox_root


@pytest.fixture
def live_gofer():
    """A real gofer serving a scratch directory, in a forked child (it changes its
    fsuid and groups per request: never in this process)."""
    import socket
    import tempfile
    from gofer.server import Gofer
    scratch = tempfile.mkdtemp(prefix="svsec-gofer-")
    with open(os.path.join(scratch, "f"), "w") as f:
        f.write("inside")
    os.symlink("/etc", os.path.join(scratch, "out"))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            ours.close()
            root_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
            Gofer(theirs, root_fd).serve()
        finally:
            os._exit(0)
    theirs.close()
    ours.settimeout(10)
    yield ours, pid, scratch
    ours.close()
    os.waitpid(pid, 0)
    subprocess.run(["rm", "-rf", scratch])
