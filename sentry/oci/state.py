"""Container state under --root: one directory per container, written atomically.

    ROOT/.lock             flock()ed by every command that changes state
    ROOT/ID/state.json     the container's record (tmp file + rename)
    ROOT/ID/control.sock   the container's sentry listens here
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field

DEFAULT_ROOT = "/run/sandvisor"
OCI_VERSION = "1.0.2-dev"


class NotFound(Exception):
    pass


@dataclass
class ContainerState:
    id: str
    bundle: str
    rootfs: str
    status: str                 # creating | created | running | paused | stopped
    pid: int = 0                # the container's sentry (what --pid-file got)
    app_pid: int = 0            # the container's process (pid 1 inside), host pid
    created: str = ""
    owner: str = ""
    annotations: dict = field(default_factory=dict)
    platform: str = "auto"
    hooks: dict = field(default_factory=dict)

    def oci(self) -> dict:
        """The `state` answer, shaped as runc's."""
        status = self.live_status()
        return {"ociVersion": OCI_VERSION, "id": self.id,
                "pid": self.app_pid if status != "stopped" else 0, "status": status,
                "bundle": self.bundle, "rootfs": self.rootfs, "created": self.created,
                "owner": self.owner, **({"annotations": self.annotations} if self.annotations else {})}

    def live_status(self) -> str:
        if self.status in ("created", "running", "paused") and not _alive(self.app_pid):
            return "stopped"
        return self.status


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def rfc3339_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"


class Store:
    def __init__(self, root: str | None):
        self.root = os.path.abspath(root or DEFAULT_ROOT)

    def dir(self, cid: str) -> str:
        if not cid or "/" in cid or cid in (".", "..") or len(cid) > 1024:
            raise ValueError(f"invalid container id {cid!r}")
        return os.path.join(self.root, cid)

    def control(self, cid: str) -> str:
        return os.path.join(self.dir(cid), "control.sock")

    @contextlib.contextmanager
    def locked(self):
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def exists(self, cid: str) -> bool:
        return os.path.exists(os.path.join(self.dir(cid), "state.json"))

    def load(self, cid: str) -> ContainerState:
        try:
            with open(os.path.join(self.dir(cid), "state.json")) as f:
                return ContainerState(**json.load(f))
        except FileNotFoundError:
            raise NotFound(cid) from None

    def save(self, st: ContainerState) -> None:
        d = self.dir(st.id)
        os.makedirs(d, mode=0o700, exist_ok=True)
        tmp = os.path.join(d, f".state.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(asdict(st), f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(d, "state.json"))

    def remove(self, cid: str) -> None:
        shutil.rmtree(self.dir(cid), ignore_errors=True)

    def all(self) -> list[ContainerState]:
        out = []
        if not os.path.isdir(self.root):
            return out
        for name in sorted(os.listdir(self.root)):
            if name.startswith("."):
                continue
            try:
                out.append(self.load(name))
            except (NotFound, ValueError, TypeError):
                continue
        return out
