"""The sentry's kernel layer: the task table, application memory, credentials.

Handlers receive (kernel, task, args) and return an Answer (sentry.events). They
read and write the application's memory through the Task, resolve paths through
kernel.vfs and reach files only through kernel.gofer.
"""

from __future__ import annotations

import ctypes
import errno
import os
import traceback
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from gofer.protocol import Creds
from sentry import ffi
from sentry.events import CONTINUE, Error




class MemoryFault(Exception):
    """The application gave a pointer that does not map readable (writable) memory."""


class Identity(NamedTuple):
    """A task's credentials, as its /proc status shows them."""
    ruid: int
    euid: int
    fsuid: int
    rgid: int
    egid: int
    fsgid: int
    groups: tuple[int, ...]
    umask: int
    cap_eff: int = ~0

    def fs_creds(self) -> Creds:
        return Creds(self.fsuid, self.fsgid, self.groups, self._drop(self.fsuid))

    def real_creds(self) -> Creds:
        return Creds(self.ruid, self.rgid, self.groups, self._drop(self.ruid))

    def _drop(self, uid: int) -> int:
        """The capabilities file access depends on that this root caller lacks (for
        another uid the kernel drops them itself when the server takes on its fsuid)."""
        if uid != 0:
            return 0
        missing = FILE_CAPS & ~self.cap_eff
        if self.cap_eff & _CAP_DAC_OVERRIDE:
            missing &= ~_CAP_DAC_READ_SEARCH   # read and search are part of the override
        return missing


@dataclass(slots=True)
class Task:
    """One thread of the application, as the sentry knows it."""
    tid: int            # host tid
    tgid: int           # host tgid
    ns_tid: int         # tid inside the sandbox's pid namespace
    ns_tgid: int
    identity: Identity | None = None
    _fs: tuple | None = None   # (identity, its fs_creds()): most trapped calls need them

    # -- memory -------------------------------------------------------------
    # process_vm_readv/writev rather than /proc/PID/mem: they honour the caller's page
    # protections, so a path in PROT_NONE memory or a result aimed at read-only memory
    # faults as it would natively (EFAULT) instead of being forced through.
    def read(self, addr: int, size: int) -> bytes:
        if size == 0:
            return b""
        try:
            data = ffi.vm_read(self.tid, addr, size)
        except (OSError, OverflowError, ctypes.ArgumentError):
            data = b""
        if len(data) != size:
            raise MemoryFault(addr)
        return data

    def read_cstring(self, addr: int, limit: int = ffi.PATH_MAX) -> bytes:
        """A NUL-terminated string (read in page-bounded chunks: a string may end
        just before unmapped memory). Longer than `limit` raises ValueError."""
        try:
            return ffi.vm_cstring(self.tid, addr, limit)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise ValueError("string too long") from None
            raise MemoryFault(addr) from None
        except (OverflowError, ctypes.ArgumentError, TypeError):
            raise MemoryFault(addr) from None

    def write(self, addr: int, data: bytes) -> None:
        try:
            n = ffi.vm_write(self.tid, addr, data)
        except (OSError, OverflowError, ctypes.ArgumentError):
            n = -1
        if n != len(data):
            raise MemoryFault(addr)

    # -- filesystem state, read from the host's record ----------------------
    def cwd(self) -> bytes:
        return os.readlink(f"/proc/{self.tid}/cwd".encode())

    def fd_path(self, fd: int) -> bytes:
        return os.readlink(f"/proc/{self.tid}/fd/{fd}".encode())

    def creds(self) -> Identity:
        if self.identity is None:
            self.identity = read_identity(self.tid)
        return self.identity

    def fs_creds(self) -> Creds:
        """The credentials file access is checked with, built once per identity."""
        identity = self.creds()
        cached = self._fs
        if cached is None or cached[0] is not identity:
            cached = self._fs = (identity, identity.fs_creds())
        return cached[1]

    def close(self) -> None:
        """Nothing is held per task any more; kept for the task table's forget()."""


# what the gofer's permission checks depend on (and holds: gofer/allowlist.py)
FILE_CAPS = ffi.cap_mask(["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
                          "CAP_FOWNER", "CAP_FSETID"])
_CAP_DAC_OVERRIDE = ffi.cap_mask(["CAP_DAC_OVERRIDE"])
_CAP_DAC_READ_SEARCH = ffi.cap_mask(["CAP_DAC_READ_SEARCH"])


# the fields of /proc/TID/status a task's ids and credentials come from (proc(5)); the
# task's name, the only text in it a task chooses, has its newlines escaped there
_STATUS_KEYS = tuple(b"\n" + k + b":" for k in (b"Tgid", b"Pid", b"NStgid", b"NSpid", b"Uid",
                                                b"Gid", b"Groups", b"Umask", b"CapEff"))
_STATUS_READ = 16384


def _status(tid: int) -> dict[bytes, bytes]:
    """Those fields of its status, by key: every new task's first trapped syscall reads
    them (twice per fork+exec). os.open/os.read and a search for each key take 14 us
    where open() and a dict of all ~60 lines took 29."""
    fd = os.open(f"/proc/{tid}/status", os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _STATUS_READ)
        if len(data) == _STATUS_READ:   # a short read of a seq_file is all of it
            chunks = [data]
            while chunk := os.read(fd, _STATUS_READ):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    fields = {}
    for key in _STATUS_KEYS:
        start = data.find(key)
        if start >= 0:
            start += len(key)
            end = data.find(b"\n", start)
            fields[key[1:-1]] = data[start:end if end >= 0 else len(data)].strip()
    return fields


def read_identity(tid: int) -> Identity:
    return _identity(_status(tid))


def _identity(fields: dict[bytes, bytes]) -> Identity:
    uids = [int(v) for v in fields[b"Uid"].split()]
    gids = [int(v) for v in fields[b"Gid"].split()]
    groups = tuple(int(v) for v in fields.get(b"Groups", b"").split())
    umask = int(fields.get(b"Umask", b"0022").strip(), 8)
    cap_eff = int(fields.get(b"CapEff", b"0").strip(), 16)
    return Identity(uids[0], uids[1], uids[3], gids[0], gids[1], gids[3], groups, umask,
                    cap_eff)


def _ns_ids(fields: dict[bytes, bytes]) -> tuple[int, int, int]:
    """(host tgid, innermost-namespace tgid, innermost-namespace tid)."""
    tgid = int(fields[b"Tgid"])
    ns_tgid = int(fields.get(b"NStgid", fields[b"Tgid"]).split()[-1])
    ns_tid = int(fields.get(b"NSpid", fields[b"Pid"]).split()[-1])
    return tgid, ns_tgid, ns_tid


@dataclass
class Kernel:
    """State shared by all handlers of one sandbox."""
    gofer: object                    # gofer.client.GoferClient
    vfs: object                      # sentry.vfs.VFS
    tasks: dict[int, Task] = field(default_factory=dict)
    # trace(task, nr, args, answer) after each answered syscall (--strace, audit)
    trace: Callable | None = None
    trap_host: bool = False           # host syscalls are trapped too (and continued)
    still_valid: Callable[[], bool] = lambda: True   # set by the platform per event
    # nr -> check(task, nr, args) -> answer, for host syscalls trapped only to be checked
    # (compile_filter's `guarded`): CONTINUE lets them run
    guards: dict[int, Callable] = field(default_factory=dict)
    log_error: Callable[[str], None] = lambda msg: None
    # on_task(task) for each task first seen, where the platform does not see exits
    # itself (unotify: ProcessExits), so that a dead process's tasks are forgotten
    on_task: Callable[["Task"], None] | None = None
    handlers: list = field(init=False, repr=False)   # nr -> handler or None

    def __post_init__(self):
        from syscalls.table import HANDLERS  # late: the handlers import this module
        self.handlers = HANDLERS

    def task(self, tid: int) -> Task:
        task = self.tasks.get(tid)
        if task is None:
            # one read of its status for both its ids and its credentials (a task is
            # new at its first trapped syscall, and most need the credentials)
            try:
                fields = _status(tid)
                tgid, ns_tgid, ns_tid = _ns_ids(fields)
                identity = _identity(fields)
            except (OSError, KeyError, ValueError, IndexError):
                tgid, ns_tgid, ns_tid = tid, tid, tid
                identity = None   # read when first needed, failing as it does then
            task = Task(tid, tgid, ns_tid, ns_tgid, identity)
            self.tasks[tid] = task
            if self.on_task is not None:
                self.on_task(task)
        return task

    def dispatch(self, task: "Task", nr: int, args: tuple) -> object:
        """Run the handler for syscall `nr`: the one entry point both platforms use.
        Never raises: a handler bug is logged and answered with EIO."""
        handlers = self.handlers
        handler = handlers[nr] if 0 <= nr < len(handlers) else None
        if handler is None:
            guard = self.guards.get(nr) if self.guards else None
            if guard is not None:
                return guard(task, nr, args)
            return CONTINUE if self.trap_host else Error(errno.ENOSYS)
        try:
            return handler(self, task, args)
        except Exception:  # noqa: BLE001 - a handler bug must not kill the sentry
            self.log_error(f"handler for syscall {nr} failed:\n" + traceback.format_exc())
            return Error(errno.EIO)

    def forget_group(self, tgid: int) -> None:
        for tid in [t for t, task in self.tasks.items() if task.tgid == tgid]:
            self.tasks.pop(tid).close()

    def forget(self, tid: int) -> None:
        task = self.tasks.pop(tid, None)
        if task is not None:
            task.close()


def fault() -> Error:
    return Error(errno.EFAULT)
