"""Path resolution with Linux semantics (path_resolution(7)), on top of gofer walks.

The resolver keeps the resolved prefix as a stack of names from the sandbox root
(or from a RESOLVE_IN_ROOT root): '.' keeps it, '..' pops it but never above the
root, a symlink met by the gofer is spliced in (absolute targets restart at the
root) with the kernel's limit of 40, a trailing slash demands a directory and
follows a final symlink. Requests are sent optimistically with the whole remaining
path: the gofer walks it without following anything and reports the first symlink,
so a path without symlinks or dots costs one round trip. Nothing here normalises a
path lexically: '..' only ever pops a component the gofer has walked as a directory.
"""

from __future__ import annotations

import errno
import os
import re
from typing import Callable, NamedTuple

from gofer import protocol as p
from sentry import ffi
from sentry.events import Error

MAXSYMLINKS = 40
_ANON = re.compile(rb"^(pipe|socket|anon_inode):")
_DOTS = (b".", b"..")
_DELETED = b" (deleted)"   # what a /proc/PID/fd link's text ends with once the name is gone
_BASE_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
# A process's own /proc/PID/{fd,fdinfo} (or task/TID/...) and its cwd/root/exe links:
# Linux lets the process itself there even when it is not dumpable (after a setuid
# without exec: root's, 0500), by thread group, not by credentials.
_OWN_DIRS = (b"fd", b"fdinfo")
_OWN_LINKS = (b"cwd", b"root", b"exe")
# what may be asked there with the server's own credentials: looking, never changing
_LOOKS = (p.Stat, p.Statx, p.Readlink, p.Access, p.Search, p.Getxattr, p.Listxattr)
_SERVER = p.Creds()


class Found(NamedTuple):
    """The gofer's answer for the resolved path, the path it was sent for, and where
    a relative path's walk was then (a Base whose names begin `comps`), if anywhere."""
    resp: p.Message
    fd: int
    comps: tuple[bytes, ...]
    base: "Base | None" = None


class HostObject(NamedTuple):
    """The path named an object without a path (a pipe, socket or anonymous inode)
    through a /proc/PID/fd link: it is reopened through the owner's host /proc entry,
    as the kernel reopens it natively."""
    path: bytes


class Base(NamedTuple):
    """Where a relative path's walk is: the sandbox path of a directory, reached from
    task `tid`'s cwd (AT_FDCWD) or directory descriptor `dirfd` by `up` times '..'."""
    comps: tuple[bytes, ...]
    tid: int
    dirfd: int
    up: int = 0


# build(comps, last_is_name, trailing) -> request, or an Error to answer with
Builder = Callable[[tuple[bytes, ...], bool, bool], "p.Message | Error"]


def _still_below(base: Base | None, stack: list[bytes], target: bytes = b"",
                 home: Base | None = None) -> Base | None:
    """Where the walk now is, relative to where it started: a '..' above the start
    moves the base to its parent (as Linux walks '..' from the cwd's own dentry); an
    absolute symlink restarts at the root, whose walk checks every ancestor, and so
    does a walk that climbed to the root itself. Under RESOLVE_IN_ROOT the root is
    the dirfd, `home`: an absolute symlink restarts there."""
    if target[:1] == b"/":
        return home
    if base is None or not stack:
        return None
    depth = len(base.comps)
    if len(stack) < depth and tuple(stack) == base.comps[:len(stack)]:
        return base._replace(comps=tuple(stack), up=base.up + depth - len(stack))
    if tuple(stack[:depth]) != base.comps:
        return None
    return base


def _searches_all(creds: p.Creds) -> bool:
    """Whether file access with `creds` ignores directory modes: root that kept its
    file capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    return creds.uid == 0 and not creds.drop


def _open_base(base: Base) -> int:
    """The directory the walk started from (the caller's cwd or dirfd, through its
    /proc entry)."""
    where = "cwd" if base.dirfd == ffi.AT_FDCWD else f"fd/{base.dirfd}"
    return os.open(f"/proc/{base.tid}/{where}", _BASE_FLAGS)


class VFS:
    def __init__(self, gofer, proc: tuple[bytes, ...] = (b"proc",),
                 hidden: list[str] | tuple = ()):
        self.gofer = gofer
        self.proc = proc
        # paths a profile hides: absent, whatever the view holds there
        self.hidden = [tuple(c.encode() for c in h.split("/") if c) for h in hidden]
        # stat's fast path, where the client has one (DirectClient.stat_cached)
        self._stat_cached = getattr(gofer, "stat_cached", None)

    def stat_simple(self, path: bytes, follow: bool, creds: p.Creds) -> bytes | None:
        """The struct stat of `path` when none of resolve's steps applies to it and the
        client answers it from a cached directory (Gofer.stat_cached): an absolute path
        of names only (no dot, no trailing slash) outside /proc and the hidden paths,
        whose last name is not a symlink to follow. It is what resolve() with a Stat
        request would get, in one fstatat; None: ask resolve()."""
        if self._stat_cached is None or path[:1] != b"/" or path[-1:] == b"/" or \
                len(path) >= ffi.PATH_MAX or creds.uid != 0 or creds.drop:
            # (the cache serves only root with every file capability: Gofer._may_cache)
            return None
        comps = tuple(filter(None, path.split(b"/")))
        # (a name over NAME_MAX fails in the kernel's fstatat: resolve() answers it)
        if b"." in comps or b".." in comps or comps[:len(self.proc)] == self.proc or \
                (self.hidden and self.is_hidden(comps)):
            return None
        raw = self._stat_cached(creds, comps)
        if raw is None or (follow and ffi.stat_is_link(raw)):
            return None
        return raw

    # -- where a lookup starts ------------------------------------------------
    def start(self, task, dirfd: int, path: bytes,
              root: tuple[bytes, ...] = ()) -> tuple[list[bytes], list[bytes]] | Error:
        if not path:
            return Error(errno.ENOENT)
        if len(path) >= ffi.PATH_MAX:
            return Error(errno.ENAMETOOLONG)
        if path[:1] == b"/":
            return list(root), path.split(b"/")
        base = self.dir_of(task, dirfd)
        if isinstance(base, Error):
            return base
        return base, path.split(b"/")

    def dir_of(self, task, dirfd: int) -> list[bytes] | Error:
        """The sandbox path of the caller's cwd or of directory descriptor `dirfd`."""
        try:
            where = self._in_proc(
                lambda: task.cwd() if dirfd == ffi.AT_FDCWD else task.fd_path(dirfd))
        except OSError:
            return Error(errno.EBADF if dirfd != ffi.AT_FDCWD else errno.ENOENT)
        if where[:1] != b"/":
            return Error(errno.ENOTDIR)  # a pipe, socket or anonymous inode
        if where.endswith(b" (deleted)"):
            return Error(errno.ENOENT)
        return [c for c in where.split(b"/") if c]

    # -- the resolution loop -------------------------------------------------
    def resolve(self, task, dirfd: int, path: bytes, follow: bool, build: Builder,
                root: tuple[bytes, ...] = (), resolve: int = 0,
                objects: bool = False, creds: p.Creds | None = None) -> Found | Error:
        """`root` confines the walk (RESOLVE_IN_ROOT); `resolve` holds openat2's other
        RESOLVE_ flags: with BENEATH leaving the root is EXDEV instead, with NO_SYMLINKS
        following any symlink is ELOOP, with NO_MAGICLINKS following a /proc magic link.
        `objects`: a final /proc/PID/fd link of the caller's, followed, is the object
        itself (a HostObject) whatever it points to, as for linkat; otherwise only an
        object without a path is, and the others' targets are followed by name.
        `creds`: whose lookup it is, for the search checks the VFS makes itself (dots);
        the caller's filesystem ids unless given (access(2) walks with the real ids)."""
        begun = self.start(task, dirfd, path, root)
        if isinstance(begun, Error):
            return begun
        stack, pending = begun
        # under RESOLVE_IN_ROOT an absolute path starts at the dirfd too
        base = Base(tuple(stack), task.tid, dirfd) \
            if stack and (path[:1] != b"/" or root) else None
        return self.run(task, stack, pending, follow, build, root, resolve, base, objects,
                        creds)

    def run(self, task, stack: list[bytes], pending: list[bytes], follow: bool,
            build: Builder, root: tuple[bytes, ...] = (), resolve: int = 0,
            base: Base | None = None, objects: bool = False,
            creds: p.Creds | None = None) -> Found | Error:
        """`base`: where a relative path started (see _call); `objects`, `creds`: see
        resolve."""
        home = base if root and base is not None and base.comps == tuple(root) else None
        beneath = bool(resolve & ffi.RESOLVE_BENEATH)
        trailing = bool(pending) and pending[-1] == b"" and len(pending) > 1
        pending = [c for c in pending if c]
        pending.reverse()  # a stack: the next name is pending[-1]
        links = 0
        last_is_name = True
        while True:
            names: list[bytes] = []
            while pending and pending[-1] not in _DOTS:
                name = pending.pop()
                if len(name) > ffi.NAME_MAX:
                    return Error(errno.ENAMETOOLONG)
                names.append(name)
            if pending:
                # A dot follows: what precedes it must be walked as directories, and
                # the caller must be able to search the last (as every lookup in a
                # directory needs, dots included)
                if names:
                    walked = list(self._subst(task, tuple(stack + names), True))
                    found = self._search(self._searcher(task, walked, creds), walked, base)
                    if isinstance(found.resp, p.RSymlink):
                        refused = self._refused(found, walked, resolve)
                        if refused is not None:
                            return refused
                        links += 1
                        spliced = self._splice(found, walked, pending, root, links)
                        if isinstance(spliced, Error):
                            return spliced
                        stack = spliced
                        base = _still_below(base, stack, found.resp.target, home)
                        continue
                    if isinstance(found.resp, p.RError):
                        return Error(found.resp.errno)
                    stack = walked
                elif not _searches_all(creds or task_creds(task)):
                    # the dot is looked up where the walk stands: the cwd, or where the
                    # last dot left it (root with its file capabilities may search any)
                    found = self._search(self._searcher(task, stack, creds), list(stack),
                                         base)
                    if isinstance(found.resp, p.RError):
                        return Error(found.resp.errno)
                dot = pending.pop()
                if dot == b".." and len(stack) > len(root):
                    stack = stack[:-1]
                    base = _still_below(base, stack)
                elif dot == b".." and beneath:
                    return Error(errno.EXDEV)
                last_is_name = False
                continue
            comps = self._subst(task, tuple(stack + names), follow or trailing)
            if objects and not pending and not trailing:
                # the caller's own /proc/PID/fd/N: Linux lets a process into its own
                # fd directory and links even when it is not dumpable (after a setuid
                # without exec), which a walk with its credentials cannot show
                own = self._host_object(task, comps, b"", True)
                if own is not None:
                    return Error(errno.ENOENT) if self.hidden and self.is_hidden(comps) \
                        else own
            is_name = bool(names) or (last_is_name and len(stack) > len(root))
            req = build(comps, is_name, trailing)
            if type(req) is Error:
                return req
            if self.proc[0] in comps[:1] and self._own_proc(task, comps) and (
                    type(req) in _LOOKS
                    or (type(req) is p.WalkOpen and not req.flags & os.O_CREAT)):
                # an open there is then made by the caller itself (CONTINUE,
                # syscalls/file.py), and a link met is followed by its text as the caller
                req = req._replace(creds=_SERVER)
            found = self._call(req, comps, base)
            if type(found.resp) is p.RSymlink:
                refused = self._refused(found, comps, resolve)
                if refused is not None:
                    return refused
                if not pending and found.resp.index == len(comps) - 1:
                    host = self._host_object(task, comps, found.resp.target, objects)
                    if host is not None:
                        return host
                links += 1
                spliced = self._splice(found, list(comps), pending, root, links)
                if isinstance(spliced, Error):
                    return spliced
                stack = spliced
                base = _still_below(base, stack, found.resp.target, home)
                last_is_name = True
                continue
            return found

    def _refused(self, found: Found, comps, resolve: int) -> Error | None:
        """Whether openat2's RESOLVE_ flags forbid following the symlink just met."""
        if not resolve:
            return None
        if resolve & ffi.RESOLVE_NO_SYMLINKS:
            return Error(errno.ELOOP)
        if resolve & ffi.RESOLVE_NO_MAGICLINKS and self._is_magic(
                tuple(comps[:found.resp.index + 1])):
            return Error(errno.ELOOP)
        if resolve & ffi.RESOLVE_BENEATH and found.resp.target[:1] == b"/":
            return Error(errno.EXDEV)
        return None

    def _proc_entry(self, comps) -> tuple[bytes, bytes | None, tuple[bytes, ...]] | None:
        """(PID, TID or None, the names after them) of a path in /proc/PID[/task/TID],
        or None for any other path."""
        n = len(self.proc)
        tail = tuple(comps[n:])
        if tuple(comps[:n]) != self.proc or not tail or not tail[0].isdigit():
            return None
        if len(tail) >= 3 and tail[1] == b"task" and tail[2].isdigit():
            return tail[0], tail[2], tail[3:]
        return tail[0], None, tail[1:]

    def _is_magic(self, link: tuple[bytes, ...]) -> bool:
        """/proc/PID[/task/TID]/{cwd,root,exe} and .../{fd,map_files,ns}/X: links the
        kernel follows to an object rather than by their text."""
        entry = self._proc_entry(link)
        if entry is None:
            return False
        rest = entry[2]
        return (len(rest) == 1 and rest[0] in (b"cwd", b"root", b"exe")) or \
            (len(rest) == 2 and rest[0] in (b"fd", b"map_files", b"ns"))

    def _in_proc(self, look):
        """`look()`, which reads a task's /proc/TID entry. A task that changed its ids
        is not dumpable: its /proc/TID/fd is root's, which the sentry is not while it
        keeps a caller's fsuid (gofer.client.DirectClient): refused, it looks again as
        itself."""
        try:
            return look()
        except PermissionError:
            self.gofer.as_sentry()
            return look()

    def open_object(self, obj: HostObject) -> int:
        """An O_PATH descriptor of the object a HostObject names, through the owner's
        host /proc entry."""
        return self._in_proc(lambda: os.open(obj.path, os.O_PATH | os.O_CLOEXEC))

    def _own_proc(self, task, comps) -> bool:
        """Whether `comps` is, in the caller's own /proc/PID (or its task/TID), its fd
        or fdinfo directory, a name in one, or its cwd, root or exe link."""
        entry = self._proc_entry(comps)
        if entry is None:
            return False
        pid, tid, rest = entry
        if not rest or self.host_tid(task, int(pid)) is None or \
                (tid is not None and self.host_tid(task, int(tid)) is None):
            return False
        return (rest[0] in _OWN_DIRS and len(rest) <= 2) or \
            (rest[0] in _OWN_LINKS and len(rest) == 1)

    def _searcher(self, task, comps, creds: p.Creds | None) -> p.Creds:
        """Whose search of directory `comps` it is (see _own_proc): `creds`, else the
        caller's filesystem ids."""
        if comps and comps[0] == self.proc[0] and self._own_proc(task, tuple(comps)):
            return _SERVER
        return creds or task_creds(task)

    def _search(self, creds: p.Creds, comps: list[bytes], base: Base | None = None) -> Found:
        return self._call(p.Search(creds, tuple(comps)), tuple(comps), base)

    def _call(self, req: p.Message, comps: tuple[bytes, ...],
              base: Base | None = None) -> Found:
        """Ask the gofer, which walks `comps` from the root with the caller's
        credentials. Linux starts a relative lookup at the cwd (or dirfd) and checks no
        search permission on its ancestors: a process that chdir'ed and then dropped
        its privileges still creates files there. So when the walk from the root is
        refused (EACCES) for a path below `base`, it is asked again from the directory
        itself (ask). Only then: the walk from the root is the fast path."""
        if self.hidden and self.is_hidden(comps):
            return Found(p.RError(errno.ENOENT), -1, comps)
        if base is not None and comps[:len(base.comps)] != base.comps:
            base = None
        path = getattr(req, "path", None) if base is not None else None
        if path is None:   # an absolute path: the fast path asks nothing more
            resp, fd = self.gofer.call(req)
        else:
            resp, fd = self.ask(req, (path,), (base,))
        return Found(resp, fd, comps, base)

    def ask(self, req: p.Message, paths, bases) -> tuple[p.Message, int]:
        """The gofer's answer to `req`; if it is EACCES, `req` again with, for each of
        its `paths`, the directory its Base in `bases` (or None) names, opened through
        /proc/TID (the gofer checks it is the one the path's first names name,
        Gofer.dispatch_at), unless no base applies or one cannot be opened."""
        resp, fd = self.gofer.call(req)
        if type(resp) is not p.RError or resp.errno != errno.EACCES:
            return resp, fd
        spec = []
        opened = []
        try:
            for path, base in zip(paths, bases):
                if base is None or path[:len(base.comps)] != base.comps:
                    spec.append((0, -1, 0))
                    continue
                try:
                    opened.append(self._in_proc(lambda: _open_base(base)))
                except OSError:
                    return resp, fd
                spec.append((len(base.comps), opened[-1], base.up))
            if not opened:
                return resp, fd
            return self.gofer.call(req, tuple(spec))
        finally:
            for where in opened:
                os.close(where)

    def is_hidden(self, comps: tuple[bytes, ...]) -> bool:
        return any(comps[:len(h)] == h for h in self.hidden)

    def _splice(self, found: Found, comps: list[bytes], pending: list[bytes],
                root: tuple[bytes, ...], links: int) -> list[bytes] | Error:
        """Replace the symlink at found.resp.index with its target; returns the new
        stack and extends `pending` (kept reversed) with the rest."""
        if links > MAXSYMLINKS:
            return Error(errno.ELOOP)
        link = found.resp
        target = link.target
        if not target:
            return Error(errno.ENOENT)
        if link.index >= len(comps):
            return Error(errno.EIO)  # the gofer named a name we did not send
        rest = comps[link.index + 1:]
        last = not rest and not pending  # the link is the path's final component
        pending.extend(reversed(rest))
        pending.extend(reversed([c for c in target.split(b"/") if c] or []))
        if target.endswith(b"/") and last:
            pending.insert(0, b".")  # a trailing slash on the target keeps its meaning
        if target[:1] == b"/":
            return list(root)
        return comps[:link.index]

    def _host_object(self, task, comps: tuple[bytes, ...], target: bytes,
                     objects: bool = False) -> HostObject | None:
        """The caller's own /proc/PID/fd link `comps` (text `target`) as the object it
        holds, where following its text by name would not reach that object: one
        without a path (a pipe, socket or anonymous inode), or one whose name is gone (a
        deleted file, a memfd: "... (deleted)"), which Linux reopens all the same; with
        `objects`, whatever it points to. Its own exe link too, once deleted or a memfd
        (a self re-exec): nothing can open it for writing while it runs (ETXTBSY). None:
        its text is followed."""
        deleted = target[:1] == b"/" and target.endswith(_DELETED)
        if not objects and not deleted and (target[:1] == b"/" or not _ANON.match(target)):
            return None
        entry = self._proc_entry(comps)
        if entry is None:
            return None
        pid, tid, rest = entry
        exe = rest == (b"exe",) and deleted and not objects
        if not exe and (len(rest) != 2 or rest[0] != b"fd"):
            return None
        host = self.host_tid(task, int(tid if tid is not None else pid))
        if host is None:
            return None
        if exe:
            return HostObject(b"/proc/%d/exe" % host)
        name = rest[1]
        if deleted and not objects and not target.startswith(b"/memfd:") and \
                not self._in_view(host, name):
            # a deleted file held from outside the view (its stdin): reopened, it could
            # be written though only given for reading; its text is followed instead
            return None
        return HostObject(b"/proc/%d/fd/%s" % (host, name))

    def _in_view(self, host_tid: int, fd: bytes) -> bool:
        """Whether descriptor `fd` of task `host_tid` is on one of the mounts of its own
        mount namespace (the sandbox's view), not on one of the host's."""
        def look() -> bool:
            with open(b"/proc/%d/fdinfo/%s" % (host_tid, fd), "rb") as info:
                mnt = next((line.split()[1] for line in info
                            if line.startswith(b"mnt_id:")), None)
            with open(b"/proc/%d/mountinfo" % host_tid, "rb") as mounts:
                return mnt is not None and any(line.split(b" ", 1)[0] == mnt
                                               for line in mounts)
        try:
            return self._in_proc(look)
        except (OSError, IndexError):
            return False

    @staticmethod
    def host_tid(task, ns_tid: int) -> int | None:
        """The host tid of a sandbox tid the caller can name (itself, for now)."""
        if ns_tid == task.ns_tgid:
            return task.tgid
        if ns_tid == task.ns_tid:
            return task.tid
        return None

    def proc_self_link(self, task, comps: tuple[bytes, ...]) -> bytes | None:
        """What /proc/self and /proc/thread-self read as for the caller, inside."""
        n = len(self.proc)
        if len(comps) == n + 1 and comps[:n] == self.proc:
            if comps[n] == b"self":
                return str(task.ns_tgid).encode()
            if comps[n] == b"thread-self":
                return f"{task.ns_tgid}/task/{task.ns_tid}".encode()
        return None

    def _subst(self, task, comps: tuple[bytes, ...], follow_last: bool) -> tuple[bytes, ...]:
        """/proc/self and /proc/thread-self name the caller in the sandbox's pid
        namespace, which the gofer (outside it) cannot know."""
        n = len(self.proc)
        if len(comps) > n and comps[:n] == self.proc and comps[n] in (b"self", b"thread-self"):
            if len(comps) == n + 1 and not follow_last:
                return comps
            if comps[n] == b"self":
                mid = (str(task.ns_tgid).encode(),)
            else:
                mid = (str(task.ns_tgid).encode(), b"task", str(task.ns_tid).encode())
            return comps[:n] + mid + comps[n + 1:]
        return comps


def task_creds(task) -> p.Creds:
    return task.fs_creds()
