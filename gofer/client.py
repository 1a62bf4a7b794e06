"""The sentry's side of the gofer channel."""

from __future__ import annotations

import errno
import os
import socket

from gofer import protocol as p
from sentry import ffi

_ANC_SPACE = socket.CMSG_SPACE(4 * 4)
_MAX_RESPONSE = 1 << 18
# plain ints: socket's MSG_* are IntFlag members, whose | and & run Python code
_TRUNCATED = int(socket.MSG_TRUNC | socket.MSG_CTRUNC)
_CLOEXEC = int(socket.MSG_CMSG_CLOEXEC)
getcpu = ffi.getcpu


class GoferClient:
    """Synchronous request/response over one SOCK_SEQPACKET socket.

    A dead or misbehaving gofer never hangs or crashes the sentry: every call then
    answers R_ERROR(EIO) and `failed` says why.
    """

    def __init__(self, sock: socket.socket, peer: int = 0):
        self.sock = sock
        self.failed: str | None = None
        # the gofer process (pid `peer`) is kept on the CPU the sentry calls from: a
        # request wakes it with a plain wake-up, which the scheduler sends to the other,
        # idle CPU, and on a VM whose idle vCPUs halt that and the wake-up back cost
        # ~70 us of a request (stat through the gofer: 125 -> 59 us). It only ever runs
        # for a request, while the sentry waits, so one CPU at a time is all it needs.
        self._peer = peer
        self._peer_cpu = -1
        # one receive buffer for every response: recvmsg(256 KiB) allocated (mmap) and
        # freed (munmap, with its TLB flush) a fresh one each time, ~40 us of a request
        self._buf = memoryview(bytearray(_MAX_RESPONSE))

    def call(self, msg: p.Message, bases: tuple = ()) -> tuple[p.Message, int]:
        """Send one request; returns (response, fd or -1). The caller owns the fd.
        `bases`, one (depth, fd, up) per path of the request (depth 0: none): the
        path's first `depth` names are the directory `up` times '..' from directory
        `fd`, sent along (p.AtBase, p.AtBases; Gofer.dispatch_at)."""
        if self.failed:
            return p.RError(errno.EIO), -1
        if self._peer:
            cpu = getcpu()
            if cpu != self._peer_cpu:
                self._follow(cpu)
        try:
            if not bases and not msg.FD_FIELDS:
                self.sock.send(p.encode(msg))
            else:
                # the request's own descriptors (p.FD), then one per base
                fds = [getattr(msg, name) for name in msg.FD_FIELDS]
                fds += [fd for depth, fd, _up in bases if depth]
                wrapped = msg
                if len(bases) == 1:
                    wrapped = p.AtBase(bases[0][0], bases[0][2], p.encode(msg))
                elif bases:
                    (d0, _f0, u0), (d1, _f1, u1) = bases
                    wrapped = p.AtBases(d0, u0, d1, u1, p.encode(msg))
                self.sock.sendmsg([p.encode(wrapped)], ffi.rights(*fds))
            size, ancdata, flags, _ = self.sock.recvmsg_into([self._buf], _ANC_SPACE, _CLOEXEC)
        except OSError as exc:
            return self._fail(f"the gofer channel broke ({os.strerror(exc.errno or 0)})")
        data = self._buf[:size].tobytes()
        fds = ffi.received_fds(ancdata)
        if not data:
            _close_all(fds)
            return self._fail("the gofer exited")
        if flags & _TRUNCATED:
            _close_all(fds)
            return self._fail("the gofer sent an oversized message")
        try:
            resp = p.decode(data)
        except p.ProtocolError as exc:
            _close_all(fds)
            return self._fail(f"the gofer sent garbage ({exc})")
        if isinstance(resp, p.RFd):
            if len(fds) != 1:
                _close_all(fds)
                return self._fail("the gofer sent R_FD without exactly one descriptor")
            return resp, fds[0]
        if fds:
            _close_all(fds)
            return self._fail(f"the gofer sent descriptors with {type(resp).__name__}")
        if resp.ID < p.MsgId.R_OK:
            return self._fail(f"the gofer sent a request ({type(resp).__name__})")
        return resp, -1

    def _follow(self, cpu: int) -> None:
        """Move the gofer to `cpu`, this thread's; where that is refused (a cpuset
        without it), give it back the sentry's CPUs and stop following."""
        try:
            os.sched_setaffinity(self._peer, (cpu,))
            self._peer_cpu = cpu
        except OSError:
            try:
                os.sched_setaffinity(self._peer, os.sched_getaffinity(0))
            except OSError:
                pass
            self._peer = 0

    def as_sentry(self) -> None:
        """Nothing to restore: the gofer process acts under the callers' identities."""

    def cache_dirs(self) -> None:
        """Not in the gofer process: nothing tells it when the mounts are final, and a
        cached walk saves 3 us of the ~160 a request through it costs."""

    def _fail(self, why: str) -> tuple[p.Message, int]:
        if not self.failed:
            self.failed = why
        return p.RError(errno.EIO), -1


def _close_all(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


# requests whose modes come with the caller's umask applied (the server's own is 0 then)
_CREATING = frozenset((p.WalkOpen, p.Mkdir, p.Mknod, p.Symlink))


class DirectClient:
    """--file-access direct (gVisor's directfs): the same request handlers, run in the
    sentry on the root descriptor the gofer donated, without the cross-process hop.
    Mount work (ShowCgroups) still goes to the gofer, which keeps the mount namespace;
    when the gofer is gone, file operations fail with EIO as they would through it."""

    _ROOT = p.Creds(0, 0, ())

    def __init__(self, gofer_client: GoferClient, root_fd: int, rootless: bool = False):
        from gofer.server import Gofer
        self.remote = gofer_client
        self.local = Gofer(None, root_fd, proc_fd_dir="/proc/self/fd/", rootless=rootless)

    @property
    def failed(self) -> str | None:
        return self.remote.failed

    @failed.setter
    def failed(self, why: str | None) -> None:
        self.remote.failed = why

    def call(self, msg: p.Message, bases: tuple = ()) -> tuple[p.Message, int]:
        """`bases`: see GoferClient.call (Gofer.dispatch_at).

        The sentry keeps the caller's file identity (fsuid, fsgid, groups, dropped
        capabilities) after the request: the next one is most often the same caller's,
        and switching there and back cost 14 us per request (setgroups, setfsgid,
        setfsuid twice; measured 2026-12-05). What the sentry does on its own account
        calls as_sentry() first."""
        if self.remote.failed:
            return p.RError(errno.EIO), -1
        cls = type(msg)
        if cls in _CREATING:
            old_umask = os.umask(0)
            try:
                return self._dispatch(msg, bases)
            finally:
                os.umask(old_umask)
        if cls is p.ShowCgroups:
            return self.remote.call(msg)
        return self._dispatch(msg, bases)

    def stat_cached(self, creds: p.Creds, path: tuple[bytes, ...]) -> bytes | None:
        """Gofer.stat_cached: stat's fast path, or None."""
        if self.remote.failed:
            return None
        return self.local.stat_cached(creds, path)

    def _dispatch(self, msg: p.Message, bases: tuple) -> tuple[p.Message, int]:
        if bases:
            return self.local.dispatch_at(msg, bases)
        return self.local.dispatch(msg)

    def cache_dirs(self) -> None:
        self.local.cache_dirs()

    def as_sentry(self) -> None:
        """Back to the sentry's own file identity (root's, with all its capabilities):
        before the sentry opens a file for itself, and when serving ends. Requests come
        from the serving thread only, and fsuid and fsgid are per thread."""
        self.local.become(self._ROOT)
