"""The seccomp user-notification platform (the default).

The application child installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and
hands the listener to the sentry over a socketpair. The sentry then receives each
trapped syscall with NOTIF_RECV and answers it with NOTIF_SEND (a value, an errno, or
CONTINUE), after NOTIF_ADDFD for a descriptor (installed, the sentry's copy closed, then
its number sent: docs/DESIGN.md says why not ADDFD's FLAG_SEND). Every received
notification is answered, whatever a handler does.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket

from sentry import ffi
from sentry.events import Error, InjectFd, Return
from sentry.platform import Platform, PlatformUnavailable, Probe, kernel_version
from sentry.platform.bpf import HANDOVER_SENDMSG_FLAGS
from sentry.strace import snapshot

_ZERO_NOTIF = bytes(ffi.SECCOMP_NOTIF_SIZE)
_RESP = ffi.SECCOMP_NOTIF_RESP
_NOTIF = ffi.SECCOMP_NOTIF
_ADDFD = ffi.SECCOMP_NOTIF_ADDFD
_RECV, _SEND = ffi.SECCOMP_IOCTL_NOTIF_RECV, ffi.SECCOMP_IOCTL_NOTIF_SEND
_ID_VALID, _ADDFD_IOCTL = ffi.SECCOMP_IOCTL_NOTIF_ID_VALID, ffi.SECCOMP_IOCTL_NOTIF_ADDFD
_CONTINUE_FLAG = ffi.SECCOMP_USER_NOTIF_FLAG_CONTINUE
_POLL_IN = select.POLLIN
_POLL_END = select.POLLHUP | select.POLLERR | select.POLLNVAL


class UnotifyPlatform(Platform):
    name = "unotify"
    trap = "notify"

    def __init__(self):
        self.listeners: set[int] = set()
        self.poller = None
        self.sync_wakeup = False

    @classmethod
    def probe(cls) -> Probe:
        version = kernel_version()
        if version < (5, 9):
            return Probe(cls.name, False, f"kernel {version[0]}.{version[1]} lacks "
                         "SECCOMP_IOCTL_NOTIF_ADDFD (needs 5.9)")
        try:
            sizes = ffi.seccomp_get_notif_sizes()
        except OSError as exc:
            return Probe(cls.name, False, f"seccomp(SECCOMP_GET_NOTIF_SIZES): {exc.strerror}")
        expected = (ffi.SECCOMP_NOTIF_SIZE, ffi.SECCOMP_NOTIF_RESP_SIZE, ffi.SECCOMP_DATA_SIZE)
        if sizes != expected:
            return Probe(cls.name, False, f"notification struct sizes {sizes} differ from "
                         f"the {expected} this build knows")
        return Probe(cls.name, True, "seccomp user notification with ADDFD")

    # -- in the application child ------------------------------------------
    def child_install(self, sock, bpf: bytes) -> None:
        flags = ffi.SECCOMP_FILTER_FLAG_NEW_LISTENER | ffi.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        try:
            listener = ffi.seccomp_load_filter(bpf, flags)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            listener = ffi.seccomp_load_filter(bpf, ffi.SECCOMP_FILTER_FLAG_NEW_LISTENER)
        sock.sendmsg([b"L"], ffi.rights(listener), HANDOVER_SENDMSG_FLAGS)
        os.close(listener)

    # -- in the sentry -------------------------------------------------------
    def attach(self, sock, app_pidfd: int, timeout: float) -> None:
        """Receive a listener from an application child; a sandbox may have several
        (one per `exec`), all served by the same loop."""
        self.wait_for_child(sock, app_pidfd, timeout, "installing the filter")
        msg, ancdata, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(4),
                                                   socket.MSG_CMSG_CLOEXEC)
        fds = ffi.received_fds(ancdata)
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            why = msg.decode(errors="replace").removeprefix("error ") if msg.startswith(b"error ") \
                else "the application child did not send its seccomp listener"
            raise PlatformUnavailable(why)
        listener = fds[0]
        try:
            fcntl.ioctl(listener, ffi.SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                        ffi.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
            self.sync_wakeup = True
        except OSError:
            self.sync_wakeup = False  # kernel < 6.6: slower cross-CPU wake-ups, still correct
        self.listeners.add(listener)
        if self.poller is not None:
            self.poller.register(listener, _POLL_IN)

    def close(self) -> None:
        for listener in self.listeners:
            os.close(listener)
        self.listeners.clear()

    def serve(self, kernel, loop) -> None:
        """Answer notifications until loop.stopping(); poll loop.fds() alongside."""
        listeners = self.listeners
        ioctl = fcntl.ioctl
        unpack = _NOTIF.unpack
        dispatch = kernel.dispatch
        tasks = kernel.tasks
        trace = kernel.trace
        answer = self._answer
        self.poller = poller = select.poll()
        for listener in listeners:
            poller.register(listener, _POLL_IN)
        for fd in loop.fds():
            poller.register(fd, _POLL_IN)
        current = [0, -1]  # notification id, listener

        def still_valid() -> bool:
            try:
                ioctl(current[1], _ID_VALID, current[0].to_bytes(8, "little"))
                return True
            except OSError:
                return False

        kernel.still_valid = still_valid
        while not loop.stopping():
            try:
                ready = poller.poll(loop.poll_timeout_ms())
            except InterruptedError:
                continue
            for fd, events in ready:
                if fd not in listeners:
                    if loop.ready(fd):
                        poller.unregister(fd)
                    continue
                if events & _POLL_END and not events & _POLL_IN:
                    # every task under this listener is gone
                    poller.unregister(fd)
                    listeners.discard(fd)
                    os.close(fd)
                    continue
                try:
                    # an immutable argument: fcntl copies it (zeroed, as RECV demands)
                    # into its own buffer and returns the filled copy
                    raw = ioctl(fd, _RECV, _ZERO_NOTIF)
                except OSError:
                    continue  # the task died between poll and receive
                nid, tid, _flags, nr, _arch, _ip, a0, a1, a2, a3, a4, a5 = unpack(raw)
                current[0] = nid
                current[1] = fd
                task = tasks.get(tid) or kernel.task(tid)
                args = (a0, a1, a2, a3, a4, a5)
                result = dispatch(task, nr, args)
                if trace is None:
                    answer(fd, nid, result)
                    continue
                # strings are read before the answer: afterwards the caller may reuse them
                snap = snapshot(task, nr, args)
                trace(task, nr, args, answer(fd, nid, result), snap)
        self.poller = None

    @staticmethod
    def _answer(listener: int, nid: int, result):
        """Send the answer; returns what the caller actually got."""
        if type(result) is InjectFd:
            # installed, then our copy closed, and only then the answer: the caller's
            # own close must be the file's last, as natively (inotify's IN_CLOSE_WRITE
            # comes with it; with ADDFD's FLAG_SEND the caller ran on first)
            fd = result.fd
            req = bytearray(_ADDFD.pack(nid, 0, fd, 0, os.O_CLOEXEC if result.cloexec else 0))
            try:
                result = Return(fcntl.ioctl(listener, _ADDFD_IOCTL, req, True))
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return Error(errno.EINTR)  # the caller is gone
                result = Error(exc.errno)      # e.g. EMFILE in the caller: answer it
            finally:
                os.close(fd)
        cls = type(result)
        if cls is Return:
            resp = _RESP.pack(nid, result.value, 0, 0)
        elif cls is Error:
            resp = _RESP.pack(nid, 0, -result.errno, 0)
        else:
            resp = _RESP.pack(nid, 0, 0, _CONTINUE_FLAG)
        try:
            fcntl.ioctl(listener, _SEND, resp)
        except OSError:
            pass  # ENOENT: the caller died or was interrupted; nothing waits for it
        return result


