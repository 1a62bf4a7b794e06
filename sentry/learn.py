"""--learn FILE: watch one run, write the smallest profile that lets it run again; and,
under a profile, report what a program tried to reach outside it.

Both watch the emulated path syscalls as they are answered (kernel.trace). The paths
recorded are the arguments made absolute against the caller's cwd or dirfd: a
proposal for a policy, which the view then enforces (this module never decides
access).
"""

from __future__ import annotations

import errno
import os
import sys

from sentry.events import Continue, Error, InjectFd, Return
from syscalls.table import NAMES

AT_FDCWD = -100
# syscall -> [(dirfd arg index or None, path arg index, writes?)]
PATH_ARGS: dict[str, list[tuple[int | None, int, bool]]] = {
    "open": [(None, 0, False)], "openat": [(0, 1, False)], "openat2": [(0, 1, False)],
    "creat": [(None, 0, True)], "stat": [(None, 0, False)], "lstat": [(None, 0, False)],
    "newfstatat": [(0, 1, False)], "statx": [(0, 1, False)], "access": [(None, 0, False)],
    "faccessat": [(0, 1, False)], "faccessat2": [(0, 1, False)],
    "readlink": [(None, 0, False)], "readlinkat": [(0, 1, False)],
    "execve": [(None, 0, False)], "execveat": [(0, 1, False)], "chdir": [(None, 0, False)],
    "statfs": [(None, 0, False)], "getxattr": [(None, 0, False)],
    "lgetxattr": [(None, 0, False)], "listxattr": [(None, 0, False)],
    "mkdir": [(None, 0, True)], "mkdirat": [(0, 1, True)], "rmdir": [(None, 0, True)],
    "unlink": [(None, 0, True)], "unlinkat": [(0, 1, True)],
    "rename": [(None, 0, True), (None, 1, True)],
    "renameat": [(0, 1, True), (2, 3, True)], "renameat2": [(0, 1, True), (2, 3, True)],
    "link": [(None, 0, False), (None, 1, True)], "linkat": [(0, 1, False), (2, 3, True)],
    "symlink": [(None, 1, True)], "symlinkat": [(1, 2, True)],
    "mknod": [(None, 0, True)], "mknodat": [(0, 1, True)],
    "chmod": [(None, 0, True)], "fchmodat": [(0, 1, True)], "chown": [(None, 0, True)],
    "lchown": [(None, 0, True)], "fchownat": [(0, 1, True)], "truncate": [(None, 0, True)],
    "utimensat": [(0, 1, True)], "utimes": [(None, 0, True)], "utime": [(None, 0, True)],
    "setxattr": [(None, 0, True)], "lsetxattr": [(None, 0, True)],
    "removexattr": [(None, 0, True)], "lremovexattr": [(None, 0, True)],
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC
_PROVIDED = ("/proc", "/sys", "/dev")
_SCRATCH = ("/tmp/", "/var/tmp/", "/run/")


def _signed(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def syscall_paths(task, name: str, args, snap: dict) -> list[tuple[str, bool]]:
    """(absolute path, writes?) for each path the call names; [] when unreadable."""
    out = []
    for dirfd_i, path_i, writes in PATH_ARGS.get(name, []):
        raw = snap.get(path_i)
        if not raw:
            continue
        try:
            base = b"/"
            if raw[:1] != b"/":
                dirfd = AT_FDCWD if dirfd_i is None else _signed(args[dirfd_i])
                base = task.cwd() if dirfd == AT_FDCWD else task.fd_path(dirfd)
            path = os.path.normpath(os.path.join(base, raw)).decode()
        except Exception:  # noqa: BLE001 - a path we cannot read is not recorded
            continue
        if name in ("open", "openat") and _signed(args[2 if name == "openat" else 1]) & _WRITE_FLAGS:
            writes = True
        out.append((path, writes))
    return out


def interpreters(path: str, depth: int = 0) -> set[str]:
    """The `#!` interpreter and ELF PT_INTERP a program needs, recursively."""
    found: set[str] = set()
    if depth > 4:
        return found
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return found
    interp = None
    if head.startswith(b"#!"):
        words = head[2:].split(b"\n", 1)[0].split()
        interp = words[0].decode(errors="replace") if words else None
    elif head.startswith(b"\x7fELF") and len(head) >= 64 and head[4] == 2:  # ELF64
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        for i in range(phnum):
            off = phoff + i * phentsize
            if off + 56 > len(head):
                break
            if int.from_bytes(head[off:off + 4], "little") == 3:  # PT_INTERP
                start = int.from_bytes(head[off + 8:off + 16], "little")
                size = int.from_bytes(head[off + 32:off + 40], "little")
                interp = head[start:start + size].rstrip(b"\0").decode(errors="replace")
                break
    if interp and interp.startswith("/"):
        found.add(os.path.normpath(interp))
        real = os.path.realpath(interp)
        found.add(real)
        found |= interpreters(real, depth + 1)
    return found


def _succeeded(result) -> bool:
    return isinstance(result, (Return, InjectFd, Continue))


def _collapse(path: str, depth: int) -> str:
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:depth])


class Learner:
    """Collects what a run touched; `profile()` is the smallest policy for it."""

    def __init__(self):
        self.read: set[str] = set()
        self.written: set[str] = set()

    def __call__(self, task, nr: int, args, result, snap) -> None:
        name = NAMES.get(nr, "")
        if name not in PATH_ARGS:
            return
        ok = _succeeded(result) or (isinstance(result, Error) and result.errno == errno.ENOENT)
        for path, writes in syscall_paths(task, name, args, snap):
            if path.startswith(_PROVIDED):
                continue
            if writes and _succeeded(result):
                self.written.add(path)
            elif ok:
                self.read.add(path)
                if name in ("execve", "execveat") and _succeeded(result):
                    # the kernel opens these itself, out of the filter's sight
                    self.read.update(interpreters(path))

    def profile(self, cwd: str) -> dict:
        # where it wrote: the host's content stays visible, the writes go to memory
        overlay = {_collapse(p, 1 if p.startswith(_SCRATCH) else 2) for p in self.written}
        overlay = sorted(o for o in overlay if os.path.isdir(o))
        under = lambda p: any(p == o or p.startswith(o + "/") for o in overlay)  # noqa: E731
        readable = set()
        for path in self.read | {cwd}:
            if under(path) or path == "/":
                continue
            parts = [p for p in path.split("/") if p]
            readable.add(path if len(parts) <= 2 else _collapse(path, 3))
        readable = {p for p in readable if os.path.lexists(p)}
        # no entry inside another
        minimal = sorted(p for p in readable
                         if not any(p != q and p.startswith(q + "/") for q in readable))
        return {"filesystem": {"readable": minimal, "overlay": overlay},
                "network": {"mode": "none"}}


class Guard:
    """Under a profile: remembers the paths a program was refused (ENOENT outside what
    the profile makes visible) and reports them at exit."""

    def __init__(self, visible: list[str], hidden: list[str]):
        self.visible = visible
        self.hidden = hidden
        self.refused: list[str] = []

    def _inside(self, path: str) -> bool:
        if any(path == h or path.startswith(h + "/") for h in self.hidden):
            return False
        return path.startswith(_PROVIDED) or any(
            path == v or path.startswith(v.rstrip("/") + "/") or v.startswith(path + "/")
            for v in self.visible)

    def __call__(self, task, nr: int, args, result, snap) -> None:
        if not (isinstance(result, Error) and result.errno == errno.ENOENT):
            return
        name = NAMES.get(nr, "")
        for path, _writes in syscall_paths(task, name, args, snap):
            # only what exists on the host: the rest is absent natively too
            if not self._inside(path) and path not in self.refused and os.path.lexists(path):
                self.refused.append(path)

    def report(self, out=sys.stderr) -> None:
        if self.refused:
            shown = ", ".join(self.refused[:10]) + (" ..." if len(self.refused) > 10 else "")
            print(f"sandvisor: refused {len(self.refused)} path(s) outside the profile: {shown}",
                  file=out)
