"""Names in directories: mkdir, mknod, rmdir, unlink, rename, link, symlink, chdir."""

from __future__ import annotations

import errno
import os
import stat as st

from gofer import protocol as p
from sentry import ffi
from sentry.events import CONTINUE, Error, Return
from sentry.vfs import HostObject, task_creds
from syscalls.common import AT_FDCWD, answer, close_found, read_path, sint

_RENAME_FLAGS = 1 | 2 | 4  # RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT


def _named(kernel, task, dirfd, path_addr, make, on_dot=errno.EEXIST, allow_trailing=False):
    """Create something at the last name of a path (never followed)."""
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path

    def build(comps, is_name, trailing):
        if not is_name:
            return Error(on_dot)
        if trailing and not allow_trailing:
            return Error(errno.ENOENT)  # only mkdir may name "dir/"
        return make(comps)

    return answer(kernel.vfs.resolve(task, dirfd, path, False, build))


def do_mkdir(kernel, task, dirfd, path_addr, mode):
    creds = task_creds(task)
    mode = mode & 0o7777 & ~task.creds().umask
    return _named(kernel, task, dirfd, path_addr, lambda comps: p.Mkdir(creds, comps, mode),
                  allow_trailing=True)


def mkdir(kernel, task, args):
    return do_mkdir(kernel, task, AT_FDCWD, args[0], args[1])


def mkdirat(kernel, task, args):
    return do_mkdir(kernel, task, sint(args[0]), args[1], args[2])


def do_mknod(kernel, task, dirfd, path_addr, mode, dev):
    kind = st.S_IFMT(mode)
    if kind in (st.S_IFCHR, st.S_IFBLK):
        return Error(errno.EPERM)
    if kind not in (0, st.S_IFREG, st.S_IFIFO, st.S_IFSOCK):
        return Error(errno.EINVAL)
    creds = task_creds(task)
    mode = (mode & ~0o7777) | (mode & 0o7777 & ~task.creds().umask)
    return _named(kernel, task, dirfd, path_addr, lambda comps: p.Mknod(creds, comps, mode, 0))


def mknod(kernel, task, args):
    return do_mknod(kernel, task, AT_FDCWD, args[0], args[1] & 0xFFFFFFFF, args[2])


def mknodat(kernel, task, args):
    return do_mknod(kernel, task, sint(args[0]), args[1], args[2] & 0xFFFFFFFF, args[3])


def do_unlink(kernel, task, dirfd, path_addr, rmdir: bool):
    creds = task_creds(task)
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path

    def build(comps, is_name, trailing):
        if not is_name:
            # rmdir(".") is EINVAL, rmdir("..") ENOTEMPTY, unlink(".") EISDIR
            if not rmdir:
                return Error(errno.EISDIR)
            return Error(errno.ENOTEMPTY if path.rstrip(b"/").endswith(b"..") else errno.EINVAL)
        if trailing and not rmdir:
            return Error(_unlink_trailing_errno(kernel, task, creds, comps))
        return p.Unlink(creds, comps, int(rmdir))

    return answer(kernel.vfs.resolve(task, dirfd, path, False, build))


def _unlink_trailing_errno(kernel, task, creds, comps) -> int:
    resp, fd = kernel.gofer.call(p.Stat(creds, comps, 1))
    if fd >= 0:
        os.close(fd)
    if isinstance(resp, p.RError):
        return resp.errno
    mode = int.from_bytes(resp.data[24:28], "little")
    return errno.EISDIR if st.S_ISDIR(mode) else errno.ENOTDIR


def unlink(kernel, task, args):
    return do_unlink(kernel, task, AT_FDCWD, args[0], False)


def rmdir(kernel, task, args):
    return do_unlink(kernel, task, AT_FDCWD, args[0], True)


def unlinkat(kernel, task, args):
    flags = sint(args[2])
    if flags & ~ffi.AT_REMOVEDIR:
        return Error(errno.EINVAL)
    return do_unlink(kernel, task, sint(args[0]), args[1], bool(flags & ffi.AT_REMOVEDIR))


def _parent_of(kernel, task, dirfd, path_addr):
    """(resolved path of the last name, trailing slash, where a relative walk was:
    a vfs.Base or None) for two-path operations."""
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    holder = {}

    def build(comps, is_name, trailing):
        if not is_name:
            return Error(errno.EBUSY)
        holder["comps"], holder["trailing"] = comps, trailing
        # walk the parent only: the last name itself may not exist yet
        return p.WalkOpen(task_creds(task), comps[:-1], 1, os.O_PATH | os.O_DIRECTORY, 0)

    found = kernel.vfs.resolve(task, dirfd, path, False, build)
    if isinstance(found, Error):
        return found
    if not isinstance(found.resp, p.RFd):
        return answer(found)
    close_found(found)
    return holder["comps"], holder["trailing"], found.base


def _two_paths(kernel, task, olddir, old_addr, newdir, new_addr, make):
    for _attempt in range(8):  # a racing symlink swap makes us re-resolve
        old = _parent_of(kernel, task, olddir, old_addr)
        if isinstance(old, (Error, Return)):
            return old
        new = _parent_of(kernel, task, newdir, new_addr)
        if isinstance(new, (Error, Return)):
            return new
        req = make(old[0], new[0], old[1] or new[1])
        if isinstance(req, Error):
            return req
        # from the caller's cwd or dirfds if refused from the root, as one path is
        resp, fd = kernel.vfs.ask(req, (req.old, req.new), (old[2], new[2]))
        if not isinstance(resp, p.RSymlink):
            if fd >= 0:
                os.close(fd)
            if isinstance(resp, p.RError):
                return Error(resp.errno)
            return Return(0)
    return Error(errno.ELOOP)


def do_rename(kernel, task, olddir, old_addr, newdir, new_addr, flags):
    if flags & ~_RENAME_FLAGS or (flags & 1 and flags & 2):
        return Error(errno.EINVAL)
    creds = task_creds(task)
    return _two_paths(kernel, task, olddir, old_addr, newdir, new_addr,
                      lambda old, new, _t: p.Rename(creds, old, new, flags))


def rename(kernel, task, args):
    return do_rename(kernel, task, AT_FDCWD, args[0], AT_FDCWD, args[1], 0)


def renameat(kernel, task, args):
    return do_rename(kernel, task, sint(args[0]), args[1], sint(args[2]), args[3], 0)


def renameat2(kernel, task, args):
    return do_rename(kernel, task, sint(args[0]), args[1], sint(args[2]), args[3],
                     args[4] & 0xFFFFFFFF)


def do_link(kernel, task, olddir, old_addr, newdir, new_addr, flags):
    if flags & ~(ffi.AT_SYMLINK_FOLLOW | ffi.AT_EMPTY_PATH):
        return Error(errno.EINVAL)
    creds = task_creds(task)
    # the old path is looked up whole first, as the kernel does (a missing old name is
    # ENOENT even when the new path's parent is not a directory); with AT_SYMLINK_FOLLOW
    # what it leads to is linked
    follow = bool(flags & ffi.AT_SYMLINK_FOLLOW)
    path = read_path(kernel, task, old_addr)
    if isinstance(path, Error):
        return path
    if not path and flags & ffi.AT_EMPTY_PATH:
        # the descriptor itself (olddir; AT_FDCWD: the cwd, a directory: EPERM)
        if not _may_link_descriptors(kernel, task):
            return Error(errno.ENOENT)
        where = b"cwd" if olddir == AT_FDCWD else b"fd/%d" % olddir
        return _link_object(kernel, task, HostObject(b"/proc/%d/%s" % (task.tid, where)),
                            newdir, new_addr, errno.EBADF)
    found = kernel.vfs.resolve(
        task, olddir, path, follow,
        lambda comps, _n, _t: p.WalkOpen(creds, comps, int(follow), os.O_PATH, 0),
        objects=follow)
    if isinstance(found, HostObject):
        # a /proc/PID/fd link of the caller's: the object (an O_TMPFILE file has no
        # name to walk, a renamed one another name)
        return _link_object(kernel, task, found, newdir, new_addr, errno.ENOENT)
    if isinstance(found, Error) or not isinstance(found.resp, p.RFd):
        return answer(found)
    close_found(found)
    target = found.comps if follow else None

    def make(old, new, trailing):
        if trailing:
            return Error(errno.ENOENT)
        return p.Link(creds, target if target is not None else old, new)

    return _two_paths(kernel, task, olddir, old_addr, newdir, new_addr, make)


def _may_link_descriptors(kernel, task) -> bool:
    """linkat(2) with AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH, or (Linux 6.10) a file
    the caller opened itself with the credentials it still has, which only the opener
    could tell. A process may always link its own descriptor through /proc/self/fd
    (AT_SYMLINK_FOLLOW), so where the sandbox shows /proc, AT_EMPTY_PATH gives nothing
    more and is allowed too; where a profile hides it, the capability is needed."""
    if task.creds().cap_eff >> ffi.CAPABILITIES["CAP_DAC_READ_SEARCH"] & 1:
        return True
    return not kernel.vfs.is_hidden(kernel.vfs.proc)


def _link_object(kernel, task, obj: HostObject, newdir, new_addr, missing: int):
    """Name the object `obj` at the new path: its descriptor goes to the gofer."""
    try:
        fd = kernel.vfs.open_object(obj)
    except OSError as exc:
        return Error(missing if exc.errno == errno.ENOENT else exc.errno or errno.EIO)
    try:
        creds = task_creds(task)
        return _named(kernel, task, newdir, new_addr, lambda comps: p.LinkFd(creds, comps, fd))
    finally:
        os.close(fd)


def link(kernel, task, args):
    return do_link(kernel, task, AT_FDCWD, args[0], AT_FDCWD, args[1], 0)


def linkat(kernel, task, args):
    return do_link(kernel, task, sint(args[0]), args[1], sint(args[2]), args[3], sint(args[4]))


def do_symlink(kernel, task, target_addr, dirfd, path_addr):
    target = read_path(kernel, task, target_addr)
    if isinstance(target, Error):
        return target
    if not target:
        return Error(errno.ENOENT)
    creds = task_creds(task)
    return _named(kernel, task, dirfd, path_addr, lambda comps: p.Symlink(creds, comps, target))


def symlink(kernel, task, args):
    return do_symlink(kernel, task, args[0], AT_FDCWD, args[1])


def symlinkat(kernel, task, args):
    return do_symlink(kernel, task, args[0], sint(args[1]), args[2])


def chdir(kernel, task, args):
    """Checked here; the host kernel then changes the cwd by the same path inside the
    sandbox's own mount namespace (it cannot be handed a descriptor)."""
    path = read_path(kernel, task, args[0])
    if isinstance(path, Error):
        return path
    creds = task_creds(task)
    found = kernel.vfs.resolve(
        task, AT_FDCWD, path, True,
        lambda comps, _n, _t: p.WalkOpen(creds, comps, 1, os.O_PATH | os.O_DIRECTORY, 0))
    if isinstance(found, Error):
        return found
    if isinstance(found.resp, p.RFd):
        close_found(found)
        return CONTINUE
    return answer(found)
