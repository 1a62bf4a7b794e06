"""The gofer's request loop: the only code that touches the sandbox's files.

Each request names a path from the sandbox root. The gofer walks it one name at a
time from its root descriptor with O_NOFOLLOW, so no walk can leave the root and no
symlink is ever followed here: a symlink met on the way is reported (R_SYMLINK) and
the sentry's VFS decides what it means. Every handler is served under the caller's
filesystem credentials.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import stat

from gofer import protocol as p
from sentry import ffi

_NO_LINKS = ffi.RESOLVE_BENEATH | ffi.RESOLVE_NO_SYMLINKS | ffi.RESOLVE_NO_MAGICLINKS
_DIR_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_PATH_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_REQUEST = 1 << 18
# the descriptors a request carries: its own (LinkFd: one), AtBase's (one), AtBases' (two)
_ANC_SPACE = socket.CMSG_SPACE(8)
_CLOEXEC = int(socket.MSG_CMSG_CLOEXEC)
_CTRUNC = int(socket.MSG_CTRUNC)
_STAT_SIZE = 144
_STATX_SIZE = 256


_OWN = p.Creds(0, 0, ())   # the server's own credentials (root, in its namespace)
_RFD = p.RFd()
_R_FD = p.encode(_RFD)


def _paths_of(req: p.Message) -> tuple[tuple[bytes, ...], ...] | None:
    """The paths a request walks, in order: a rename's or link's two, else its one."""
    if type(req) in (p.Rename, p.Link):
        return req.old, req.new
    path = getattr(req, "path", None)
    return (path,) if isinstance(path, tuple) else None


class _Symlink(Exception):
    def __init__(self, index: int, target: bytes):
        self.index = index
        self.target = target


class DirCache:
    """Open directories of the root mount by path, for callers the directories' modes
    cannot stop (root with CAP_DAC_OVERRIDE): a walk to a cached directory is a dict
    lookup instead of an openat2 and a close (3 of the 27 us of a stat here).

    Kept only where the sandbox owns its root (an overlay or a tmpfs of its own; not a
    bind of a host directory, which the host may rearrange) and only for directories
    the walk reached without crossing a mount (RESOLVE_NO_XDEV: volumes, /proc, /dev
    are walked every time). Modes do not matter to these callers, so only a change of
    which directory a path names can make an entry stale: a rename, or an rmdir, and
    both come through this server, which forgets every entry at or under the paths
    they touched. Mounts are fixed once the application runs (mount(2) is denied), so
    the cache is switched on only then."""

    LIMIT = 128   # open directories kept between requests (a request may add two)
    CROSSING_LIMIT = 1024

    def __init__(self):
        self.fds: dict[tuple[bytes, ...], int] = {}
        self.held: set[int] = set()
        # paths whose walk crosses a mount: walked without the cache, and without
        # first trying RESOLVE_NO_XDEV again
        self.crossing: set[tuple[bytes, ...]] = set()

    def put(self, path: tuple[bytes, ...], fd: int) -> int:
        self.fds[path] = fd
        self.held.add(fd)
        return fd

    def trim(self) -> None:
        """Down to LIMIT, the oldest closed first: between requests only, never while
        a request may hold one (a rename holds two parents)."""
        while len(self.fds) > self.LIMIT:
            self._close(self.fds.pop(next(iter(self.fds))))

    def cross(self, path: tuple[bytes, ...]) -> None:
        if len(self.crossing) >= self.CROSSING_LIMIT:
            self.crossing.clear()
        self.crossing.add(path)

    def forget_under(self, path: tuple[bytes, ...]) -> None:
        """Every entry for `path` and below it."""
        n = len(path)
        for key in [k for k in self.fds if k[:n] == path]:
            self._close(self.fds.pop(key))
        if self.crossing:
            self.crossing = {k for k in self.crossing if k[:n] != path}

    def clear(self) -> None:
        for fd in self.fds.values():
            self._close(fd)
        self.fds.clear()
        self.crossing.clear()

    def _close(self, fd: int) -> None:
        self.held.discard(fd)
        os.close(fd)


_NO_DIR_CACHE = DirCache()   # stays empty: what _release consults when caching is off


class Gofer:
    def __init__(self, sock: socket.socket | None, root_fd: int,
                 cgroup_fds: dict[str, int] | None = None, proc_fd_dir: str = "",
                 rootless: bool = False):
        self.sock = sock
        self.root_fd = root_fd
        # how an O_PATH descriptor N is named for path-only calls: "N" in the gofer
        # process (its cwd is its own /proc/self/fd), "/proc/self/fd/N" elsewhere
        self.proc_fd_dir = proc_fd_dir
        self.cgroup_fds = dict(cgroup_fds or {})
        # run once the cgroup mounts are done (sentry/lockdown.py's second step)
        self.after_mounts = None
        self._creds = p.Creds(0, 0, ())
        # a rootless sandbox's user namespace: setgroups is denied there. Said by the
        # runner: the gofer process, pivoted into the view, cannot read it from /proc
        self._rootless = rootless
        self.dir_cache = _NO_DIR_CACHE         # see cache_dirs()
        self._caching = False                  # dir_cache serves the current caller
        self._saved_eff: int | None = None     # effective capabilities while some are dropped
        # a request served from base directories (dispatch_at): for each of its paths,
        # None or the path's first names, the descriptor of the directory they name,
        # and the one below it the walk came up from by '..' (or -1); and which of the
        # paths is being walked
        self._bases: tuple[tuple[tuple[bytes, ...], int, int] | None, ...] = ()
        self._which = 0
        self._stat_buf = ctypes.create_string_buffer(_STAT_SIZE)
        self._statx_buf = ctypes.create_string_buffer(_STATX_SIZE)
        self.handlers = {
            p.WalkOpen: self.walk_open, p.Stat: self.stat, p.Statx: self.statx,
            p.Mkdir: self.mkdir, p.Mknod: self.mknod, p.Symlink: self.symlink,
            p.Link: self.link, p.Unlink: self.unlink, p.Rename: self.rename,
            p.Chmod: self.chmod, p.Chown: self.chown, p.Utimens: self.utimens,
            p.Truncate: self.truncate, p.Getxattr: self.getxattr,
            p.Listxattr: self.listxattr, p.Setxattr: self.setxattr,
            p.Removexattr: self.removexattr, p.Access: self.access,
            p.Readlink: self.readlink, p.ShowCgroups: self.show_cgroups,
            p.Search: self.search, p.LinkFd: self.link_fd,
        }

    # -- loop -------------------------------------------------------------
    def serve(self) -> None:
        """Serve until the channel closes. The process's umask must be 0 (see runner):
        modes arrive with the caller's umask applied already."""
        buf = memoryview(bytearray(_MAX_REQUEST))   # reused: see GoferClient.__init__
        while True:
            try:
                size, ancdata, flags, _addr = self.sock.recvmsg_into([buf], _ANC_SPACE,
                                                                      _CLOEXEC)
            except ConnectionResetError:
                return
            fds = ffi.received_fds(ancdata)   # closed below: handle() does not keep them
            if not size:   # the end (or an empty message: the same to a SEQPACKET reader)
                for extra in fds:
                    os.close(extra)
                return
            data = buf[:size].tobytes()
            # more came than fit: the kernel closed the rest, and the count is wrong
            sent = len(fds) + bool(flags & _CTRUNC)
            try:
                payload, fd = self.handle(data, fds, sent)
            finally:
                for extra in fds:
                    os.close(extra)
            if fd < 0:
                self.sock.send(payload)
                continue
            try:
                self.sock.sendmsg([payload], ffi.rights(fd))
            finally:
                os.close(fd)

    def handle(self, data: bytes, fds: list[int] = (), sent: int | None = None
               ) -> tuple[bytes, int]:
        """Serve one encoded request, with the descriptors that came beside it (the
        caller closes them; `sent` counts those that came, if more than `fds`):
        (encoded response, descriptor to pass or -1). A request with descriptor fields
        (p.FD) takes its own first, in order; AtBase and AtBases then one per base,
        exactly; any other request is served without them."""
        try:
            req = p.decode(data)
            wanted = ()
            if type(req) is p.AtBase or type(req) is p.AtBases:
                wanted = [(req.depth, req.up)] if type(req) is p.AtBase else \
                    [(req.old_depth, req.old_up), (req.new_depth, req.new_up)]
                if not any(depth for depth, _up in wanted):
                    raise p.ProtocolError(f"{type(req).__name__} without a base")
                req = p.decode(req.inner)
            own = req.FD_FIELDS
            if own or wanted:
                need = len(own) + sum(1 for depth, _up in wanted if depth)
                if len(fds) != need or (sent is not None and sent != need):
                    raise p.ProtocolError(f"{type(req).__name__}: {need} descriptor(s) "
                                          f"expected, {sent if sent is not None else len(fds)} came")
                given = iter(fds)
                if own:
                    req = req._replace(**{name: next(given) for name in own})
                bases = tuple((depth, next(given) if depth else -1, up)
                              for depth, up in wanted)
        except p.ProtocolError:
            return p.encode(p.RError(errno.EPROTO)), -1
        resp, fd = self.dispatch_at(req, bases) if wanted else self.dispatch(req)
        return (_R_FD if fd >= 0 else p.encode(resp)), fd

    def dispatch(self, req: p.Message) -> tuple[p.Message, int]:
        """Serve one decoded request: (response, descriptor or -1); never raises."""
        handler = self.handlers.get(type(req))
        if handler is None:
            return p.RError(errno.EPROTO), -1
        if len(self.dir_cache.fds) > DirCache.LIMIT:
            self.dir_cache.trim()
        try:
            self.become(req.creds)
            resp = handler(req)
        except _Symlink as link:
            return p.RSymlink(getattr(link, "which", 0), link.index, link.target), -1
        except OSError as exc:
            code = exc.errno or errno.EIO
            if code == errno.EOVERFLOW and self._rootless:
                # rootless: overlayfs cannot copy up a file or directory whose owner is
                # outside the user namespace; natively the unprivileged caller could not
                # write there either
                code = errno.EACCES
            return p.RError(code), -1
        except (ValueError, OverflowError):
            return p.RError(errno.EINVAL), -1  # an argument no syscall could take
        if isinstance(resp, int):
            return _RFD, resp
        return resp, -1

    def dispatch_at(self, req: p.Message, bases) -> tuple[p.Message, int]:
        """Serve `req` with the first `depth` names of each of its paths (one, or a
        rename's or link's two, in order; a depth of 0 leaves that path alone) reached
        from `fd`, the directory the caller's relative path starts from (its cwd or
        dirfd, opened by the sentry through /proc/TID), and `up` times '..' from there,
        walked with the caller's credentials: `bases` holds (depth, fd, up) for each.
        As Linux, such a lookup needs no search permission on the ancestors of where
        it is. Refused (EACCES, what the walk from the root answered) unless each such
        directory is the one those names name from the root, walked with the server's
        own credentials: so the walk below it stays inside the root, and means what the
        sentry resolved."""
        paths = _paths_of(req)
        if paths is None or len(bases) != len(paths) or type(req) not in self.handlers or \
                not any(depth for depth, _fd, _up in bases) or \
                any(not 0 <= depth <= len(path) or up < 0 or (up and not depth)
                    for path, (depth, _fd, up) in zip(paths, bases)):
            return p.RError(errno.EINVAL), -1
        opened: list[int] = []
        try:
            found = []
            for path, (depth, fd, up) in zip(paths, bases):
                if not depth:
                    found.append(None)
                    continue
                start, below = fd, -1
                if up:
                    self.become(req.creds)
                    mine = len(opened)
                    for _ in range(up):
                        start, below = os.open("..", _DIR_FLAGS, dir_fd=start), start
                        opened.append(start)
                        if len(opened) - mine > 2:   # only the last two are needed
                            os.close(opened.pop(mine))
                found.append((path[:depth], start, below, os.fstat(start)))
            self.become(_OWN)
            for names, _start, _below, st in filter(None, found):
                named = self._walk_dirs(names)
                try:
                    here = os.fstat(named)
                finally:
                    self._release(named)
                if (st.st_dev, st.st_ino) != (here.st_dev, here.st_ino) or \
                        not stat.S_ISDIR(st.st_mode):
                    raise OSError(errno.EACCES, "not the directory the path names")
            # each path from its own base only: another's could skip a check its own
            # lookup makes
            self._bases = tuple(b and b[:3] for b in found)
            return self.dispatch(req)
        except (OSError, _Symlink):
            return p.RError(errno.EACCES), -1
        finally:
            self._bases = ()
            for fd in opened:
                os.close(fd)

    def become(self, creds: p.Creds) -> None:
        """Act with `creds` for file access (the caller's, or the server's own)."""
        if creds == self._creds:
            return
        # fsuid/fsgid and the groups are what the kernel checks for file access. In a
        # rootless sandbox's user namespace setgroups is denied, and the application
        # cannot change its groups either: they are the gofer's own already.
        if self._saved_eff is not None:
            # undo the last caller's drop while the fsuid is still its (root): the fsuid
            # change below then adjusts the effective set as the kernel always does
            _eff, permitted, inheritable = ffi.capget()
            ffi.capset(self._saved_eff, permitted, inheritable)
            self._saved_eff = None
        if not self._rootless:
            os.setgroups(list(creds.groups))
        ffi.setfsgid(creds.gid)
        ffi.setfsuid(creds.uid)
        if creds.drop:
            # a root caller that dropped capabilities with capset(2): the server acts
            # without them too (a process that gave up CAP_CHOWN cannot chown through it)
            eff, permitted, inheritable = ffi.capget()
            self._saved_eff = eff
            ffi.capset(eff & ~creds.drop, permitted, inheritable)
        self._creds = creds
        self._caching = self._may_cache(creds)

    def _may_cache(self, creds: p.Creds) -> bool:
        """Root with every file capability: no mode can stop its walks."""
        return self.dir_cache is not _NO_DIR_CACHE and creds.uid == 0 and not creds.drop

    def cache_dirs(self) -> None:
        """Keep walked directories open (DirCache); the caller says when it may
        (sentry.runner._dirs_cacheable)."""
        if self.dir_cache is not _NO_DIR_CACHE:
            return
        self.dir_cache = DirCache()
        self._caching = self._may_cache(self._creds)

    # -- walking ----------------------------------------------------------
    def _walk_dirs(self, path: tuple[bytes, ...]) -> int:
        """Open the directory `path` (every name a directory, none followed). The
        result may be the root descriptor itself, or one the cache holds: release it
        with _release. Under dispatch_at, a path below the base starts there."""
        base = self._bases[self._which] if self._bases else None
        if base is not None and path[:len(base[0])] == base[0]:
            return self._walk_below(base[1], path, len(base[0]))
        if path and self._caching:
            cache = self.dir_cache
            fd = cache.fds.get(path)
            if fd is not None:
                return fd
            if path not in cache.crossing:
                try:
                    fd = ffi.openat2(self.root_fd, b"/".join(path), _DIR_FLAGS, 0,
                                     _NO_LINKS | ffi.RESOLVE_NO_XDEV)
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        return self._walk_names(path)   # why it failed, name by name
                    cache.cross(path)
                else:
                    return cache.put(path, fd)
        return self._walk_below(self.root_fd, path, 0)

    def _walk_below(self, start: int, path: tuple[bytes, ...], depth: int) -> int:
        """Open the directory `path` whose first `depth` names are directory `start`."""
        if len(path) - depth > 1:
            # One kernel walk refusing every symlink and '..' (so it cannot leave
            # `start`) replaces one open and one close per name; when it fails, the walk
            # below finds out why, name by name (which symlink, which name is missing).
            try:
                return ffi.openat2(start, b"/".join(path[depth:]), _DIR_FLAGS, 0,
                                   _NO_LINKS)
            except OSError:
                pass
        return self._walk_names(path, depth, start)

    def _walk_names(self, path: tuple[bytes, ...], depth: int = 0, start: int = -1) -> int:
        cur = self.root_fd if start < 0 else start
        try:
            for i, name in enumerate(path[depth:], depth):
                try:
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=cur)
                except OSError as exc:
                    if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                        self._raise_if_symlink(cur, name, i)
                    raise
                self._release(cur)
                cur = nxt
            fd, cur = cur, -1
            return fd
        finally:
            self._release(cur)

    def _release(self, fd: int) -> None:
        if fd >= 0 and fd != self.root_fd and fd not in self.dir_cache.held and \
                all(b is None or fd not in b[1:] for b in self._bases):
            os.close(fd)

    def _raise_if_symlink(self, dirfd: int, name: bytes, index: int) -> None:
        try:
            target = os.readlink(name, dir_fd=dirfd)
        except OSError:
            return
        raise _Symlink(index, target)

    def _parent(self, path: tuple[bytes, ...]) -> tuple[int, bytes]:
        if not path:
            raise OSError(errno.EBUSY, "the root has no parent")
        base = self._bases[self._which] if self._bases else None
        if base is not None and path == base[0]:
            # the base itself: reached by '..' from the directory below it (Linux looks
            # nothing up in it then), or as "." in it
            _names, fd, below = base
            return (below, b"..") if below >= 0 else (fd, b".")
        return self._walk_dirs(path[:-1]), path[-1]

    def _final(self, path: tuple[bytes, ...], follow: bool) -> int:
        """O_PATH descriptor of the object itself (a symlink only if not follow)."""
        if not path:
            return os.dup(self.root_fd)
        parent, name = self._parent(path)
        try:
            fd = os.open(name, _PATH_FLAGS, dir_fd=parent)
            if follow and stat.S_ISLNK(os.fstat(fd).st_mode):
                os.close(fd)
                raise _Symlink(len(path) - 1, os.readlink(name, dir_fd=parent))
            return fd
        finally:
            self._release(parent)

    # -- handlers -----------------------------------------------------------
    def walk_open(self, req: p.WalkOpen) -> int:
        flags = req.flags | os.O_NOFOLLOW | os.O_CLOEXEC
        if not req.path:
            return os.open(".", flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW),
                           dir_fd=self.root_fd)
        parent, name = self._parent(req.path)
        try:
            try:
                fd = os.open(name, flags, req.mode, dir_fd=parent)
            except OSError as exc:
                # O_NOFOLLOW on a symlink: ELOOP, or ENOTDIR with O_DIRECTORY
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and req.follow:
                    self._raise_if_symlink(parent, name, len(req.path) - 1)
                raise
            if req.follow and flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):
                os.close(fd)
                raise _Symlink(len(req.path) - 1, os.readlink(name, dir_fd=parent))
            return fd
        finally:
            self._release(parent)

    def stat(self, req: p.Stat) -> p.RData:
        if not req.path:
            ffi.fstatat_raw(self.root_fd, self._stat_buf)
            return p.RData(self._stat_buf.raw)
        parent, name = self._parent(req.path)
        try:
            # one fstatat on the parent, not open+fstat+close of the object
            raw = ffi.fstatat_bytes(parent, name, ffi.AT_SYMLINK_NOFOLLOW)
            if req.follow and ffi.stat_is_link(raw):
                raise _Symlink(len(req.path) - 1, os.readlink(name, dir_fd=parent))
            return p.RData(raw)
        finally:
            self._release(parent)

    def stat_cached(self, creds: p.Creds, path: tuple[bytes, ...]) -> bytes | None:
        """stat's fast path, for a server in the sentry (DirectClient): the struct stat
        of `path`, its final name not followed, in one fstatat, when the walk to its
        parent is the cache's (DirCache) for `creds`. It is what stat() above answers
        then; anything else (no cached parent, an error) is None, and the request goes
        through dispatch, which answers it."""
        if not path or self._bases:
            return None
        name = path[-1]
        if name in (b"", b".", b"..") or b"/" in name or b"\0" in name:
            return None   # not one name (direct access decodes no message to check it)
        try:
            self.become(creds)
            if not self._caching:
                return None
            parent = self.root_fd if len(path) == 1 else self.dir_cache.fds.get(path[:-1])
            if parent is None:
                return None
            return ffi.fstatat_bytes(parent, name, ffi.AT_SYMLINK_NOFOLLOW)
        except (OSError, ValueError, OverflowError):
            return None

    def statx(self, req: p.Statx) -> p.RData:
        fd = self._final(req.path, bool(req.follow))
        try:
            flags = ffi.AT_EMPTY_PATH | (req.sync_flags & 0x6000)
            ffi.statx_raw(fd, b"", flags, req.mask, self._statx_buf)
            return p.RData(self._statx_buf.raw)
        finally:
            os.close(fd)

    def show_cgroups(self, req: p.ShowCgroups) -> p.ROk:
        try:
            return self._show_cgroups()
        finally:
            # mounted or not, the gofer mounts nothing else: lock that door too
            self.cgroup_fds.clear()
            hook, self.after_mounts = self.after_mounts, None
            if hook is not None:
                hook()

    def _show_cgroups(self) -> p.ROk:
        if not self.cgroup_fds:
            return p.ROk()
        base = ffi.openat2(self.root_fd, "sys/fs/cgroup", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC,
                           0, ffi.RESOLVE_IN_ROOT | ffi.RESOLVE_NO_SYMLINKS)
        try:
            ffi.mount("cgroup", str(base), "tmpfs", ffi.MS_NOSUID | ffi.MS_NODEV | ffi.MS_NOEXEC,
                      "mode=755,size=64k")
        finally:
            os.close(base)
        top = ffi.openat2(self.root_fd, "sys/fs/cgroup", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC,
                          0, ffi.RESOLVE_IN_ROOT | ffi.RESOLVE_NO_SYMLINKS)
        try:
            for ctrl, src in self.cgroup_fds.items():
                os.mkdir(ctrl, 0o755, dir_fd=top)
                target = os.open(ctrl, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=top)
                try:
                    ffi.move_mount_fd(src, target)
                finally:
                    os.close(target)
                target = os.open(ctrl, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=top)
                try:
                    ffi.mount(None, str(target), None,
                              ffi.MS_BIND | ffi.MS_REMOUNT | ffi.MS_RDONLY | ffi.MS_NOSUID)
                finally:
                    os.close(target)
                os.close(src)
            ffi.mount(None, str(top), None, ffi.MS_REMOUNT | ffi.MS_RDONLY | ffi.MS_NOSUID
                      | ffi.MS_NODEV | ffi.MS_NOEXEC, "mode=755,size=64k")
        finally:
            os.close(top)
        self.cgroup_fds.clear()
        return p.ROk()

    def readlink(self, req: p.Readlink) -> p.RData:
        parent, name = self._parent(req.path)
        try:
            return p.RData(os.readlink(name, dir_fd=parent))
        finally:
            self._release(parent)

    def access(self, req: p.Access) -> p.ROk:
        fd = self._final(req.path, bool(req.follow))
        try:
            # AT_EACCESS: check with the fs ids just taken on, not the gofer's real ids
            ffi.faccessat2(fd, b"", req.mode, ffi.AT_EMPTY_PATH | ffi.AT_EACCESS)
            return p.ROk()
        finally:
            os.close(fd)

    def search(self, req: p.Search) -> p.ROk:
        fd = self._walk_dirs(req.path)
        try:
            # AT_EACCESS: the fs ids just taken on (as access above)
            ffi.faccessat2(fd, b"", os.X_OK, ffi.AT_EMPTY_PATH | ffi.AT_EACCESS)
            return p.ROk()
        finally:
            self._release(fd)

    def mkdir(self, req: p.Mkdir) -> p.ROk:
        parent, name = self._parent(req.path)
        try:
            os.mkdir(name, req.mode, dir_fd=parent)
            return p.ROk()
        finally:
            self._release(parent)

    def mknod(self, req: p.Mknod) -> p.ROk:
        kind = stat.S_IFMT(req.mode)
        if kind not in (0, stat.S_IFREG, stat.S_IFIFO, stat.S_IFSOCK):
            raise OSError(errno.EPERM, "device nodes cannot be created in the sandbox")
        parent, name = self._parent(req.path)
        try:
            os.mknod(name, req.mode, 0, dir_fd=parent)
            return p.ROk()
        finally:
            self._release(parent)

    def symlink(self, req: p.Symlink) -> p.ROk:
        if not req.target or b"\0" in req.target or len(req.target) >= p.PATH_MAX:
            raise OSError(errno.ENOENT if not req.target else errno.ENAMETOOLONG, "bad target")
        parent, name = self._parent(req.path)
        try:
            os.symlink(req.target, name, dir_fd=parent)
            return p.ROk()
        finally:
            self._release(parent)

    def link(self, req: p.Link) -> p.ROk:
        src_parent, src_name = self._parent_of(req.old, 0)
        try:
            dst_parent, dst_name = self._parent_of(req.new, 1)
            try:
                os.link(src_name, dst_name, src_dir_fd=src_parent, dst_dir_fd=dst_parent,
                        follow_symlinks=False)
                return p.ROk()
            finally:
                self._release(dst_parent)
        finally:
            self._release(src_parent)

    def link_fd(self, req: p.LinkFd) -> p.ROk:
        # The object by its /proc/self/fd link, followed: it may have no name to walk
        # (O_TMPFILE), and AT_EMPTY_PATH would want the opener's credentials. The kernel
        # links nothing from another mount (EXDEV): every mount of the view is the
        # sandbox's own, so nothing from outside it can get a name inside.
        parent, name = self._parent(req.path)
        try:
            os.link(self._via_proc(req.fd), name, dst_dir_fd=parent, follow_symlinks=True)
            return p.ROk()
        finally:
            self._release(parent)

    def _parent_of(self, path: tuple[bytes, ...], which: int) -> tuple[int, bytes]:
        self._which = which
        try:
            return self._parent(path)
        except _Symlink as link:
            link.which = which
            raise
        finally:
            self._which = 0

    def unlink(self, req: p.Unlink) -> p.ROk:
        parent, name = self._parent(req.path)
        try:
            if req.rmdir:
                os.rmdir(name, dir_fd=parent)
            else:
                os.unlink(name, dir_fd=parent)
            return p.ROk()
        finally:
            self._release(parent)
            if req.rmdir:
                self.dir_cache.forget_under(req.path)

    def rename(self, req: p.Rename) -> p.ROk:
        src_parent, src_name = self._parent_of(req.old, 0)
        try:
            dst_parent, dst_name = self._parent_of(req.new, 1)
            try:
                ffi.renameat2(src_parent, src_name, dst_parent, dst_name, req.flags)
                return p.ROk()
            finally:
                self._release(dst_parent)
        finally:
            self._release(src_parent)
            # what both paths named may have moved (and with it, a mount beneath)
            self.dir_cache.forget_under(req.old)
            self.dir_cache.forget_under(req.new)

    def _via_proc(self, fd: int) -> str:
        # An O_PATH descriptor cannot be fchmod'ed; its /proc/self/fd link can.
        return f"{self.proc_fd_dir}{fd}"

    def chmod(self, req: p.Chmod) -> p.ROk:
        fd = self._final(req.path, bool(req.follow))
        try:
            if stat.S_ISLNK(os.fstat(fd).st_mode):
                raise OSError(errno.EOPNOTSUPP, "symlinks have no mode")
            os.chmod(self._via_proc(fd), req.mode & 0o7777)
            return p.ROk()
        finally:
            os.close(fd)

    def chown(self, req: p.Chown) -> p.ROk:
        fd = self._final(req.path, bool(req.follow))
        try:
            ffi.fchownat(fd, b"", req.uid, req.gid, ffi.AT_EMPTY_PATH)
            return p.ROk()
        finally:
            os.close(fd)

    def utimens(self, req: p.Utimens) -> p.ROk:
        fd = self._final(req.path, bool(req.follow))
        try:
            times = (req.atime_sec, req.atime_nsec, req.mtime_sec, req.mtime_nsec)
            if stat.S_ISLNK(os.fstat(fd).st_mode):
                # utimensat has no AT_EMPTY_PATH: reach the link through its parent.
                parent, name = self._parent(req.path)
                try:
                    ffi.utimensat(parent, name, times, ffi.AT_SYMLINK_NOFOLLOW)
                finally:
                    self._release(parent)
            else:
                ffi.utimensat(ffi.AT_FDCWD, self._via_proc(fd).encode(), times, 0)
            return p.ROk()
        finally:
            os.close(fd)

    def truncate(self, req: p.Truncate) -> p.ROk:
        fd = self.walk_open(p.WalkOpen(req.creds, req.path, 0, os.O_WRONLY, 0))
        try:
            os.ftruncate(fd, req.length)
            return p.ROk()
        finally:
            os.close(fd)

    def _xattr_target(self, path: tuple[bytes, ...], follow: bool) -> tuple[int, str]:
        fd = self._final(path, follow)
        return fd, self._via_proc(fd)

    def getxattr(self, req: p.Getxattr) -> p.RData:
        fd, where = self._xattr_target(req.path, bool(req.follow))
        try:
            return p.RData(os.getxattr(where, req.name)[:p.MAX_DATA])
        finally:
            os.close(fd)

    def listxattr(self, req: p.Listxattr) -> p.RData:
        fd, where = self._xattr_target(req.path, bool(req.follow))
        try:
            names = os.listxattr(where)
            return p.RData(b"".join(os.fsencode(n) + b"\0" for n in names)[:p.MAX_DATA])
        finally:
            os.close(fd)

    def setxattr(self, req: p.Setxattr) -> p.ROk:
        fd, where = self._xattr_target(req.path, bool(req.follow))
        try:
            os.setxattr(where, req.name, req.value, req.flags)
            return p.ROk()
        finally:
            os.close(fd)

    def removexattr(self, req: p.Removexattr) -> p.ROk:
        fd, where = self._xattr_target(req.path, bool(req.follow))
        try:
            os.removexattr(where, req.name)
            return p.ROk()
        finally:
            os.close(fd)


