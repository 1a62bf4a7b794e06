"""open, openat, openat2, creat: resolved by the VFS, opened by the gofer, the
descriptor injected into the caller."""

from __future__ import annotations

import errno
import os
import struct

from gofer import protocol as p
from sentry import ffi
from sentry.events import CONTINUE, Error, InjectFd
from sentry.vfs import Found, HostObject, task_creds
from syscalls.common import AT_FDCWD, answer, close_found, read_path, sint

_OPEN_HOW = struct.Struct("=QQQ")
_VALID_RESOLVE = (ffi.RESOLVE_NO_XDEV | ffi.RESOLVE_NO_MAGICLINKS | ffi.RESOLVE_NO_SYMLINKS
                  | ffi.RESOLVE_BENEATH | ffi.RESOLVE_IN_ROOT)
O_TMPFILE_BITS = 0o20000000
_CREATE_BITS = os.O_CREAT | os.O_EXCL | os.O_TRUNC | O_TMPFILE_BITS
_DEV_TTY = (b"dev", b"tty")


def do_open(kernel, task, dirfd: int, path_addr: int, flags: int, mode: int,
            resolve: int = 0):
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    creating = bool(flags & os.O_CREAT) or (flags & O_TMPFILE_BITS) == O_TMPFILE_BITS
    # the kernel reads only the permission bits, and only when creating: without
    # O_CREAT the register holds whatever the caller left there
    mode = mode & 0o7777 & ~task.creds().umask if creating else 0
    follow = not (flags & os.O_NOFOLLOW or (flags & os.O_CREAT and flags & os.O_EXCL))
    cloexec = bool(flags & os.O_CLOEXEC)
    gofer_flags = flags & ~os.O_CLOEXEC
    creds = task_creds(task)

    def build(comps, is_name, trailing):
        if comps == _DEV_TTY:
            return p.WalkOpen(creds, comps, 1, os.O_PATH, 0)  # checked only, see below
        f = gofer_flags
        if trailing or not is_name:
            if f & os.O_CREAT:
                # as the kernel: a trailing slash is EISDIR; ".", ".." or "/" exist
                # already, so O_EXCL says EEXIST first
                return Error(errno.EEXIST if f & os.O_EXCL and not trailing else errno.EISDIR)
            f |= os.O_DIRECTORY if trailing else 0
        return p.WalkOpen(creds, comps, int(follow), f, mode)

    root: tuple[bytes, ...] = ()
    if resolve & (ffi.RESOLVE_IN_ROOT | ffi.RESOLVE_BENEATH):
        base = kernel.vfs.dir_of(task, dirfd)
        if isinstance(base, Error):
            return base
        root = tuple(base)
        if resolve & ffi.RESOLVE_BENEATH and path[:1] == b"/":
            return Error(errno.EXDEV)
    found = kernel.vfs.resolve(task, dirfd, path, follow, build, root, resolve)
    if isinstance(found, HostObject):
        # the caller's own pipe, socket or anonymous inode through its /proc/PID/fd
        # link: reopened by the caller itself, as every open under /proc (below), so
        # that the kernel checks the object's mode against the caller's ids
        return CONTINUE
    if isinstance(found, Found) and isinstance(found.resp, p.RFd) and (
            found.comps == _DEV_TTY or flags & os.O_PATH
            or found.comps[:len(kernel.vfs.proc)] == kernel.vfs.proc):
        # Opened by the kernel, by the path just checked, in the sandbox's own mount
        # namespace: /dev/tty (only the caller's own open finds its terminal), O_PATH
        # (seccomp's ADDFD refuses O_PATH descriptors: EBADF), and everything in /proc,
        # whose permissions depend on who opens (ptrace access to /proc/PID/mem, fd
        # links): opened by the privileged gofer or sentry they would not apply.
        close_found(found)
        return CONTINUE
    return answer(found, cloexec)


def open_(kernel, task, args):
    return do_open(kernel, task, AT_FDCWD, args[0], sint(args[1]), args[2])


def openat(kernel, task, args):
    return do_open(kernel, task, sint(args[0]), args[1], sint(args[2]), args[3])


def creat(kernel, task, args):
    return do_open(kernel, task, AT_FDCWD, args[0], os.O_CREAT | os.O_WRONLY | os.O_TRUNC,
                   args[1])


def openat2(kernel, task, args):
    size = args[3]
    if size < _OPEN_HOW.size or size > 4096:
        return Error(errno.EINVAL)
    try:
        raw = task.read(args[2], size)
    except Exception:  # noqa: BLE001 - any unreadable struct is EFAULT
        return Error(errno.EFAULT)
    if any(raw[_OPEN_HOW.size:]):
        return Error(errno.E2BIG)
    flags, mode, resolve = _OPEN_HOW.unpack_from(raw)
    if resolve & ~_VALID_RESOLVE or flags >> 32:
        return Error(errno.EINVAL)
    if mode and not flags & (os.O_CREAT | O_TMPFILE_BITS):
        return Error(errno.EINVAL)
    if resolve & ffi.RESOLVE_NO_XDEV:
        return Error(errno.EOPNOTSUPP)  # not emulated yet: refuse rather than ignore
    return do_open(kernel, task, sint(args[0]), args[1], flags, mode, resolve)
