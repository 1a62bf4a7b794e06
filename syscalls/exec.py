"""execve, execveat: checked by the VFS, then run by the host kernel.

The kernel itself opens the ELF interpreter and '#!' interpreters, so the program
is executed by path inside the sandbox's own mount namespace, which holds exactly
the sandbox's view: a racing rewrite of the path can only reach what the
application could run anyway (ARCHITECTURE.md section 3)."""

from __future__ import annotations

import errno
import os

from gofer import protocol as p
from sentry import ffi
from sentry.events import CONTINUE, Error
from sentry.vfs import HostObject
from syscalls.common import AT_FDCWD, answer, close_found, read_path, sint


def do_execve(kernel, task, dirfd, path_addr, flags):
    if flags & ~(ffi.AT_EMPTY_PATH | ffi.AT_SYMLINK_NOFOLLOW):
        return Error(errno.EINVAL)
    path = read_path(kernel, task, path_addr)
    if isinstance(path, Error):
        return path
    if not path and flags & ffi.AT_EMPTY_PATH:
        kernel.forget_group(task.tgid)
        return CONTINUE  # fexecve: the caller's own descriptor
    follow = not flags & ffi.AT_SYMLINK_NOFOLLOW
    ident = task.creds()
    creds = ident.fs_creds()
    found = kernel.vfs.resolve(task, dirfd, path, follow,
                               lambda comps, _n, _t: p.Access(creds, comps, 1, os.X_OK))
    if isinstance(found, Error):
        return found
    if isinstance(found, HostObject):
        # its own descriptor through /proc/self/fd (a memfd, a deleted file): as fexecve
        kernel.forget_group(task.tgid)
        return CONTINUE
    if not isinstance(found.resp, p.ROk):
        return answer(found)
    close_found(found)
    kernel.forget_group(task.tgid)  # the address space is about to be replaced
    return CONTINUE


def execve(kernel, task, args):
    return do_execve(kernel, task, AT_FDCWD, args[0], 0)


def execveat(kernel, task, args):
    return do_execve(kernel, task, sint(args[0]), args[1], sint(args[4]))
