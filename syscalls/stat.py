"""stat, lstat, newfstatat, statx, access, faccessat(2), readlink(at), statfs,
inotify_add_watch."""

from __future__ import annotations

import ctypes
import errno
import os
import stat as st

from gofer import protocol as p
from sentry import ffi
from sentry.events import Error, Return
from sentry.vfs import Found, HostObject, task_creds
from syscalls.common import AT_FDCWD, answer, close_found, read_path, sint, write_out

_STATX_MODE_OFF = 0x1C
_buf = ctypes.create_string_buffer(max(ffi.STAT_SIZE, ffi.STATX_SIZE, ffi.STATFS_SIZE))
_VALID_AT = ffi.AT_SYMLINK_NOFOLLOW | ffi.AT_EMPTY_PATH | 0x800  # | AT_NO_AUTOMOUNT


def _host_fd_path(task, dirfd: int) -> bytes:
    if dirfd == AT_FDCWD:
        return f"/proc/{task.tid}/cwd".encode()
    return f"/proc/{task.tid}/fd/{dirfd}".encode()


def _mode_of(raw: bytes, off: int) -> int:
    return int.from_bytes(raw[off:off + 2] if off == _STATX_MODE_OFF else raw[off:off + 4],
                          "little")


def _stat_into(kernel, task, dirfd: int, path_addr: int, buf_addr: int, flags: int,
               size: int, mode_off: int, host_stat, request):
    """stat and statx: `host_stat(path)` fills _buf from a host path (the caller's own
    descriptor, or a pipe reopened through /proc); `request(creds, comps, follow)` is
    the gofer's request. `size` bytes of the result go to `buf_addr`."""
    path = read_path(kernel, task, path_addr) if path_addr else b""
    if isinstance(path, Error):
        return path
    if not path:
        if not flags & ffi.AT_EMPTY_PATH:
            return Error(errno.ENOENT)
        # fstat(2) as glibc issues it: the caller's own descriptor, via its host record
        try:
            host_stat(_host_fd_path(task, dirfd))
        except OSError as exc:
            return Error(errno.EBADF if exc.errno == errno.ENOENT else exc.errno)
        return write_out(task, buf_addr, _buf.raw[:size]) or Return(0)
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    creds = task_creds(task)
    if request is p.Stat:
        raw = kernel.vfs.stat_simple(path, follow, creds)
        if raw is not None:
            return write_out(task, buf_addr, raw) or Return(0)
    found = kernel.vfs.resolve(task, dirfd, path, follow,
                               lambda comps, _n, trailing: request(creds, comps,
                                                                   int(follow or trailing)))
    if type(found) is Found and type(found.resp) is p.RData:
        raw = found.resp.data
        if path[-1:] == b"/" and not st.S_ISDIR(_mode_of(raw, mode_off)):
            return Error(errno.ENOTDIR)
        return write_out(task, buf_addr, raw[:size]) or Return(0)
    if isinstance(found, HostObject):
        try:
            host_stat(found.path)
        except OSError as exc:
            return Error(exc.errno)
        return write_out(task, buf_addr, _buf.raw[:size]) or Return(0)
    return answer(found)


def _host_stat(host: bytes) -> None:
    ffi.stat_raw(host, _buf)


def do_stat(kernel, task, dirfd: int, path_addr: int, buf_addr: int, flags: int):
    if flags & ~_VALID_AT:
        return Error(errno.EINVAL)
    return _stat_into(kernel, task, dirfd, path_addr, buf_addr, flags, ffi.STAT_SIZE,
                      ffi.ST_MODE_OFF, _host_stat, p.Stat)


def stat(kernel, task, args):
    return do_stat(kernel, task, AT_FDCWD, args[0], args[1], 0)


def lstat(kernel, task, args):
    return do_stat(kernel, task, AT_FDCWD, args[0], args[1], ffi.AT_SYMLINK_NOFOLLOW)


def newfstatat(kernel, task, args):
    return do_stat(kernel, task, sint(args[0]), args[1], args[2], sint(args[3]))


def statx(kernel, task, args):
    dirfd, path_addr, flags, mask, buf_addr = sint(args[0]), args[1], sint(args[2]), \
        args[3] & 0xFFFFFFFF, args[4]
    if flags & ~(_VALID_AT | 0x6000):
        return Error(errno.EINVAL)
    sync = flags & 0x6000
    return _stat_into(kernel, task, dirfd, path_addr, buf_addr, flags, ffi.STATX_SIZE,
                      _STATX_MODE_OFF,
                      lambda host: ffi.statx_raw(ffi.AT_FDCWD, host, sync, mask, _buf),
                      lambda creds, comps, follow: p.Statx(creds, comps, follow, sync, mask))


def do_access(kernel, task, dirfd: int, path_addr: int, mode: int, flags: int):
    if mode & ~7:
        return Error(errno.EINVAL)
    if flags & ~(ffi.AT_EACCESS | ffi.AT_SYMLINK_NOFOLLOW | ffi.AT_EMPTY_PATH):
        return Error(errno.EINVAL)
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    ident = task.creds()
    creds = ident.fs_creds() if flags & ffi.AT_EACCESS else ident.real_creds()
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    # without AT_EACCESS the whole walk is the real ids', dots included
    found = kernel.vfs.resolve(task, dirfd, path, follow,
                               lambda comps, _n, _t: p.Access(creds, comps, int(follow), mode),
                               creds=creds)
    return answer(found)


def access(kernel, task, args):
    return do_access(kernel, task, AT_FDCWD, args[0], sint(args[1]), 0)


def faccessat(kernel, task, args):
    return do_access(kernel, task, sint(args[0]), args[1], sint(args[2]), 0)


def faccessat2(kernel, task, args):
    return do_access(kernel, task, sint(args[0]), args[1], sint(args[2]), sint(args[3]))


def do_readlink(kernel, task, dirfd: int, path_addr: int, buf_addr: int, size: int):
    size = sint(size)
    if size <= 0:
        return Error(errno.EINVAL)
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    creds = task_creds(task)

    def build(comps, is_name, _trailing):
        if not comps:
            return Error(errno.EINVAL)
        own = kernel.vfs.proc_self_link(task, comps)
        if own is not None:
            return Return(len(own)) if write_out(task, buf_addr, own[:size]) is None \
                else Error(errno.EFAULT)
        return p.Readlink(creds, comps)

    found = kernel.vfs.resolve(task, dirfd, path, False, build)
    if isinstance(found, Return):
        return Return(min(found.value, size))
    if isinstance(found, Error):
        return found
    if not isinstance(found.resp, p.RData):
        return answer(found)
    data = found.resp.data[:size]
    return write_out(task, buf_addr, data) or Return(len(data))


def readlink(kernel, task, args):
    return do_readlink(kernel, task, AT_FDCWD, args[0], args[1], args[2])


def readlinkat(kernel, task, args):
    return do_readlink(kernel, task, sint(args[0]), args[1], args[2], args[3])


def statfs(kernel, task, args):
    path = read_path(kernel, task, args[0])
    if isinstance(path, Error):
        return path
    creds = task_creds(task)
    found = kernel.vfs.resolve(task, AT_FDCWD, path, True,
                               lambda comps, _n, _t: p.WalkOpen(creds, comps, 1, os.O_PATH, 0))
    if isinstance(found, Error) or not isinstance(found.resp, p.RFd):
        return answer(found)
    try:
        ffi.fstatfs_raw(found.fd, _buf)
    finally:
        close_found(found)
    return write_out(task, args[1], _buf.raw[:ffi.STATFS_SIZE]) or Return(0)


_IN_DONT_FOLLOW = 0x02000000
_IN_ONLYDIR = 0x01000000


def inotify_add_watch(kernel, task, args):
    """The path is resolved here; the watch is added to the caller's own inotify
    instance (borrowed with pidfd_getfd) on the inode the gofer opened."""
    ifd, path_addr, mask = sint(args[0]), args[1], args[2] & 0xFFFFFFFF
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    follow = not mask & _IN_DONT_FOLLOW
    flags = os.O_PATH | (os.O_DIRECTORY if mask & _IN_ONLYDIR else 0)
    creds = task_creds(task)
    found = kernel.vfs.resolve(task, AT_FDCWD, path, follow,
                               lambda comps, _n, _t: p.WalkOpen(creds, comps, int(follow),
                                                                flags, 0))
    if isinstance(found, Error) or not isinstance(found.resp, p.RFd):
        return answer(found)
    try:
        try:
            borrowed = ffi.pidfd_getfd_of(task.tgid, ifd)
        except OSError as exc:
            return Error(errno.EBADF if exc.errno in (errno.EBADF, errno.ENOENT) else exc.errno)
        try:
            wd = ffi.inotify_add_watch(borrowed, f"/proc/self/fd/{found.fd}".encode(),
                                       mask & ~_IN_DONT_FOLLOW)
        except OSError as exc:
            return Error(exc.errno)
        finally:
            os.close(borrowed)
    finally:
        close_found(found)
    return Return(wd)
