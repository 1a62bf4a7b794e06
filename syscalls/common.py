"""Helpers shared by the syscall families: reading arguments, answering from the gofer."""

from __future__ import annotations

import errno
import os

from gofer import protocol as p
from sentry.events import Answer, Error, InjectFd, Return
from sentry.kernel import MemoryFault
from sentry.vfs import Found, HostObject

AT_FDCWD = -100


def sint(value: int) -> int:
    """A register as the signed 32-bit int the kernel reads (dirfd, flags)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def dirfd_arg(value: int) -> int:
    return sint(value)


def read_path(kernel, task, addr: int) -> bytes | Error:
    """The path at `addr`; checked against the notification's validity afterwards so
    a recycled tid never lends its memory to another task."""
    try:
        path = task.read_cstring(addr)
    except MemoryFault:
        return Error(errno.EFAULT)
    except ValueError:
        return Error(errno.ENAMETOOLONG)
    if not kernel.still_valid():
        return Error(errno.EINTR)
    return path


def answer(found, cloexec: bool = False) -> Answer:
    """Turn a gofer response (or an Error) into the syscall's answer."""
    if isinstance(found, Error):
        return found
    if isinstance(found, HostObject):
        return Error(errno.ENXIO)
    resp = found.resp
    if isinstance(resp, p.RFd):
        return InjectFd(found.fd, cloexec)
    if found.fd >= 0:
        os.close(found.fd)
    if isinstance(resp, p.RError):
        return Error(resp.errno)
    if isinstance(resp, p.ROk):
        return Return(0)
    return Error(errno.EIO)


def close_found(found) -> None:
    if isinstance(found, Found) and found.fd >= 0:
        os.close(found.fd)


def write_out(task, addr: int, data: bytes) -> Error | None:
    try:
        task.write(addr, data)
    except MemoryFault:
        return Error(errno.EFAULT)
    return None
