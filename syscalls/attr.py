"""Attributes by path: truncate, chmod, chown, utimes, extended attributes."""

from __future__ import annotations

import errno
import struct

from gofer import protocol as p
from sentry import ffi
from sentry.events import CONTINUE, Error, Return
from sentry.vfs import task_creds
from syscalls.common import AT_FDCWD, answer, read_path, sint, write_out

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
_TIMESPEC2 = struct.Struct("=qqqq")
_TIMEVAL2 = struct.Struct("=qqqq")
_UTIMBUF = struct.Struct("=qq")
XATTR_SIZE_MAX = 65536


def _simple(kernel, task, dirfd, path_addr, follow, make, empty_ok=False):
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    if not path and empty_ok:
        # AT_EMPTY_PATH: the descriptor itself, reached through the caller's /proc entry
        path, dirfd, follow = f"/proc/self/fd/{dirfd}".encode(), AT_FDCWD, True
    creds = task_creds(task)
    return answer(kernel.vfs.resolve(task, dirfd, path, follow,
                                     lambda comps, _n, _t: make(creds, comps, follow)))


def truncate(kernel, task, args):
    length = args[1] - (1 << 64) if args[1] >> 63 else args[1]
    if length < 0:
        return Error(errno.EINVAL)
    return _simple(kernel, task, AT_FDCWD, args[0], True,
                   lambda c, comps, _f: p.Truncate(c, comps, length))


def do_chmod(kernel, task, dirfd, path_addr, mode, flags):
    if flags & ~(ffi.AT_SYMLINK_NOFOLLOW | ffi.AT_EMPTY_PATH):
        return Error(errno.EINVAL)
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    return _simple(kernel, task, dirfd, path_addr, follow,
                   lambda c, comps, f: p.Chmod(c, comps, int(f), mode & 0o7777),
                   empty_ok=bool(flags & ffi.AT_EMPTY_PATH))


def chmod(kernel, task, args):
    return do_chmod(kernel, task, AT_FDCWD, args[0], args[1], 0)


def fchmodat(kernel, task, args):
    return do_chmod(kernel, task, sint(args[0]), args[1], args[2], 0)


def fchmodat2(kernel, task, args):
    return do_chmod(kernel, task, sint(args[0]), args[1], args[2], sint(args[3]))


def do_chown(kernel, task, dirfd, path_addr, uid, gid, flags):
    if flags & ~(ffi.AT_SYMLINK_NOFOLLOW | ffi.AT_EMPTY_PATH):
        return Error(errno.EINVAL)
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    uid, gid = sint(uid), sint(gid)
    return _simple(kernel, task, dirfd, path_addr, follow,
                   lambda c, comps, f: p.Chown(c, comps, int(f), uid, gid),
                   empty_ok=bool(flags & ffi.AT_EMPTY_PATH))


def chown(kernel, task, args):
    return do_chown(kernel, task, AT_FDCWD, args[0], args[1], args[2], 0)


def lchown(kernel, task, args):
    return do_chown(kernel, task, AT_FDCWD, args[0], args[1], args[2], ffi.AT_SYMLINK_NOFOLLOW)


def fchownat(kernel, task, args):
    return do_chown(kernel, task, sint(args[0]), args[1], args[2], args[3], sint(args[4]))


def _utimens(kernel, task, dirfd, path_addr, times, flags):
    if flags & ~(ffi.AT_SYMLINK_NOFOLLOW | ffi.AT_EMPTY_PATH):
        return Error(errno.EINVAL)
    for nsec in (times[1], times[3]):
        if nsec not in (UTIME_NOW, UTIME_OMIT) and not 0 <= nsec < 1_000_000_000:
            return Error(errno.EINVAL)
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    return _simple(kernel, task, dirfd, path_addr, follow,
                   lambda c, comps, f: p.Utimens(c, comps, int(f), *times),
                   empty_ok=bool(flags & ffi.AT_EMPTY_PATH))


def utimensat(kernel, task, args):
    dirfd, path_addr, times_addr, flags = sint(args[0]), args[1], args[2], sint(args[3])
    if path_addr == 0:
        # futimens(fd): no path to check, only the caller's own descriptor
        return CONTINUE
    if times_addr:
        try:
            times = _TIMESPEC2.unpack(task.read(times_addr, _TIMESPEC2.size))
        except Exception:  # noqa: BLE001
            return Error(errno.EFAULT)
    else:
        times = (0, UTIME_NOW, 0, UTIME_NOW)
    return _utimens(kernel, task, dirfd, path_addr, times, flags)


def _timeval_times(task, addr):
    if not addr:
        return (0, UTIME_NOW, 0, UTIME_NOW)
    a_s, a_us, m_s, m_us = _TIMEVAL2.unpack(task.read(addr, _TIMEVAL2.size))
    if not (0 <= a_us < 1_000_000 and 0 <= m_us < 1_000_000):
        raise ValueError
    return (a_s, a_us * 1000, m_s, m_us * 1000)


def futimesat(kernel, task, args):
    try:
        times = _timeval_times(task, args[2])
    except ValueError:
        return Error(errno.EINVAL)
    except Exception:  # noqa: BLE001
        return Error(errno.EFAULT)
    return _utimens(kernel, task, sint(args[0]), args[1], times, 0)


def utimes(kernel, task, args):
    return futimesat(kernel, task, (AT_FDCWD & 0xFFFFFFFF, args[0], args[1], 0, 0, 0))


def utime(kernel, task, args):
    if args[1]:
        try:
            atime, mtime = _UTIMBUF.unpack(task.read(args[1], _UTIMBUF.size))
        except Exception:  # noqa: BLE001
            return Error(errno.EFAULT)
        times = (atime, 0, mtime, 0)
    else:
        times = (0, UTIME_NOW, 0, UTIME_NOW)
    return _utimens(kernel, task, AT_FDCWD, args[0], times, 0)


# --- extended attributes -------------------------------------------------------
def _xattr_name(task, addr) -> bytes | Error:
    try:
        name = task.read_cstring(addr, 256)
    except ValueError:
        return Error(errno.ERANGE)
    except Exception:  # noqa: BLE001
        return Error(errno.EFAULT)
    if not name:
        return Error(errno.ERANGE)
    return name


def _getxattr(kernel, task, args, follow):
    name = _xattr_name(task, args[1])
    if isinstance(name, Error):
        return name
    size = args[3]
    found = _resolved(kernel, task, args[0], follow,
                      lambda c, comps: p.Getxattr(c, comps, int(follow), name))
    return _data_out(task, found, args[2], size)


def _resolved(kernel, task, path_addr, follow, make):
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    creds = task_creds(task)
    return kernel.vfs.resolve(task, AT_FDCWD, path, follow,
                              lambda comps, _n, _t: make(creds, comps))


def _data_out(task, found, buf, size):
    if isinstance(found, Error) or not isinstance(found.resp, p.RData):
        return answer(found)
    data = found.resp.data
    if size == 0:
        return Return(len(data))
    if len(data) > size:
        return Error(errno.ERANGE)
    return write_out(task, buf, data) or Return(len(data))


def getxattr(kernel, task, args):
    return _getxattr(kernel, task, args, True)


def lgetxattr(kernel, task, args):
    return _getxattr(kernel, task, args, False)


def _listxattr(kernel, task, args, follow):
    found = _resolved(kernel, task, args[0], follow,
                      lambda c, comps: p.Listxattr(c, comps, int(follow)))
    return _data_out(task, found, args[1], args[2])


def listxattr(kernel, task, args):
    return _listxattr(kernel, task, args, True)


def llistxattr(kernel, task, args):
    return _listxattr(kernel, task, args, False)


def _setxattr(kernel, task, args, follow):
    name = _xattr_name(task, args[1])
    if isinstance(name, Error):
        return name
    size, flags = args[3], sint(args[4])
    if size > XATTR_SIZE_MAX:
        return Error(errno.E2BIG)
    if flags & ~3:
        return Error(errno.EINVAL)
    try:
        value = task.read(args[2], size) if size else b""
    except Exception:  # noqa: BLE001
        return Error(errno.EFAULT)
    return answer(_resolved(kernel, task, args[0], follow,
                            lambda c, comps: p.Setxattr(c, comps, int(follow), name, value,
                                                        flags)))


def setxattr(kernel, task, args):
    return _setxattr(kernel, task, args, True)


def lsetxattr(kernel, task, args):
    return _setxattr(kernel, task, args, False)


def _removexattr(kernel, task, args, follow):
    name = _xattr_name(task, args[1])
    if isinstance(name, Error):
        return name
    return answer(_resolved(kernel, task, args[0], follow,
                            lambda c, comps: p.Removexattr(c, comps, int(follow), name)))


def removexattr(kernel, task, args):
    return _removexattr(kernel, task, args, True)


def lremovexattr(kernel, task, args):
    return _removexattr(kernel, task, args, False)
