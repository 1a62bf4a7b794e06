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

_ZERO_NOTIF = bytes(ffi.SECCOMP_NOTIF_SIZE)
_RESP = ffi.SECCOMP_NOTIF_RESP
_NOTIF = ffi.SECCOMP_NOTIF
_RECV, _SEND = ffi.SECCOMP_IOCTL_NOTIF_RECV, ffi.SECCOMP_IOCTL_NOTIF_SEND
_addfd = ffi.notif_addfd
_CONTINUE_FLAG = ffi.SECCOMP_USER_NOTIF_FLAG_CONTINUE
_POLL_IN = select.POLLIN


class UnotifyPlatform(Platform):
    name = "unotify"
    trap = "notify"

    def __init__(self):
        self.listeners: set[int] = set()
        self.waiter = None   # serve()'s NativeNotifWaiter or PollWaiter
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
        if self.waiter is not None:   # an exec into a running sandbox
            self.waiter.add(listener, True)

    def close(self) -> None:
        for listener in self.listeners:
            os.close(listener)
        self.listeners.clear()

    def watch(self, fd: int) -> None:
        self.waiter.add(fd, False)

    def serve(self, kernel, loop) -> None:
        """Answer notifications until loop.stopping(); watch loop.fds() alongside.
        Each answer is sent by the next wait (one native call for both when the helper
        is built); the last one on the way out."""
        listeners = self.listeners
        waiter = ffi.NativeNotifWaiter() if ffi.NativeNotifWaiter.available() \
            else PollWaiter()
        for listener in listeners:
            waiter.add(listener, True)
        for fd in loop.fds():
            waiter.add(fd, False)
        self.waiter = waiter
        exits = ProcessExits(kernel)
        waiter.add(exits.fileno(), False)
        dispatch = kernel.dispatch
        tasks = kernel.tasks
        trace = kernel.trace
        settle = self._settle
        id_valid = ffi.notif_id_valid
        current = [0, -1]  # notification id, listener

        def still_valid() -> bool:
            return id_valid(current[1], current[0])

        kernel.still_valid = still_valid
        if trace is not None:
            from sentry.strace import snapshot   # imported before the lock-down (Supervisor)
        reply = None
        try:
            while not loop.stopping():
                event = waiter.next(reply, loop.poll_timeout_ms())
                reply = None
                if event is None:
                    continue
                fd, events, notif = event
                if notif is None:
                    if fd == exits.fileno():
                        exits.reap()
                    elif fd in listeners:   # every task under this listener is gone
                        waiter.remove(fd)
                        listeners.discard(fd)
                        os.close(fd)
                    else:
                        kernel.gofer.as_sentry()   # the loop's own work (gofer/client.py)
                        if loop.ready(fd):
                            waiter.remove(fd)
                    continue
                nid, tid, nr, args = notif
                current[0] = nid
                current[1] = fd
                task = tasks.get(tid) or kernel.task(tid)
                result = dispatch(task, nr, args)
                if trace is None:
                    reply, _got = settle(fd, nid, result, tid)
                    continue
                # strings are read before the answer: afterwards the caller may reuse them
                snap = snapshot(task, nr, args)
                reply, got = settle(fd, nid, result, tid)
                trace(task, nr, args, got, snap)
        finally:
            if reply is not None:
                waiter.send(reply)   # every received notification is answered
            self.waiter = None
            exits.close()
            kernel.gofer.as_sentry()

    @staticmethod
    def _settle(listener: int, nid: int, result, tid: int):
        """The answer to send for `result`, and what the caller gets: (reply or None,
        answer). A descriptor is installed now, and the sentry's copy closed, before
        the answer goes: the caller's own close must be the file's last, as natively
        (inotify's IN_CLOSE_WRITE comes with it; with ADDFD's FLAG_SEND the caller ran
        on first)."""
        cls = type(result)
        if cls is InjectFd:
            fd = result.fd
            try:
                result = Return(_addfd(listener, nid, fd, result.cloexec, tid))
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return None, Error(errno.EINTR)   # the caller is gone
                result = Error(exc.errno)   # e.g. EMFILE in the caller: answer it
            finally:
                os.close(fd)
            cls = type(result)
        if cls is Return:
            return (listener, nid, result.value, 0, 0), result
        if cls is Error:
            return (listener, nid, 0, -result.errno, 0), result
        return (listener, nid, 0, 0, _CONTINUE_FLAG), result


class ProcessExits:
    """Forget a process's tasks once it is gone. The sentry caches each task's ids and
    credentials by tid; a process killed by a signal never makes the exit_group call
    that said so, and its tid, once the pid space wraps, names another process, which
    would be served as the dead one. exit_group is not trapped for it: a signal caught
    before the sentry received the notification made it fail with EINTR, and glibc's
    _exit then dies on `hlt` (SIGSEGV instead of the exit status). So each process
    seen gets a pidfd, readable once it has exited, watched from one epoll descriptor
    in the loop. (exit stays trapped: every libc retries it.)"""

    def __init__(self, kernel):
        self.kernel = kernel
        self.epoll = select.epoll()
        self.pidfds: dict[int, int] = {}   # pidfd -> tgid
        self.tgids: set[int] = set()
        self.failed = False
        kernel.on_task = self.watch

    def fileno(self) -> int:
        return self.epoll.fileno()

    def watch(self, task) -> None:
        tgid = task.tgid
        if tgid in self.tgids:
            return
        try:
            pidfd = ffi.pidfd_open(tgid)
        except OSError as exc:
            if exc.errno == errno.ESRCH:   # gone already: nothing of it is worth keeping
                self.kernel.forget_group(tgid)
            elif not self.failed:   # once: EMFILE would say it for every process
                self.failed = True
                self.kernel.log_error(f"cannot watch process {tgid} for its exit ({exc}); "
                                      "its tasks stay cached until exec or exit: raise "
                                      "the open-files limit (ulimit -n) for large sandboxes")
            return
        self.tgids.add(tgid)
        self.pidfds[pidfd] = tgid
        self.epoll.register(pidfd, select.EPOLLIN)

    def reap(self) -> None:
        for pidfd, _events in self.epoll.poll(0):
            tgid = self.pidfds.pop(pidfd)
            self.tgids.discard(tgid)
            self.epoll.unregister(pidfd)
            os.close(pidfd)
            self.kernel.forget_group(tgid)

    def close(self) -> None:
        if self.kernel.on_task == self.watch:
            self.kernel.on_task = None
        for pidfd in self.pidfds:
            os.close(pidfd)
        self.pidfds.clear()
        self.tgids.clear()
        self.epoll.close()


class PollWaiter:
    """The unotify loop's answer-and-wait step with select.poll and fcntl.ioctl: the
    pure-Python twin of sentry.ffi.NativeNotifWaiter, used when the native helper is
    not built. Descriptors ready at one poll are all served before polling again."""

    def __init__(self):
        self.poller = select.poll()
        self.listeners: set[int] = set()
        self.watched: set[int] = set()
        self.ready: list[tuple[int, int]] = []   # from the last poll, reversed

    def add(self, fd: int, listener: bool) -> None:
        self.poller.register(fd, _POLL_IN)
        self.watched.add(fd)
        if listener:
            self.listeners.add(fd)

    def remove(self, fd: int) -> None:
        self.poller.unregister(fd)
        self.watched.discard(fd)
        self.listeners.discard(fd)

    def next(self, reply, timeout: int):
        if reply is not None:
            self.send(reply)
        while True:
            while self.ready:
                fd, events = self.ready.pop()
                if fd not in self.watched:
                    continue   # removed since the poll
                if fd in self.listeners and events & _POLL_IN:
                    try:
                        # an immutable argument: fcntl copies it (zeroed, as RECV
                        # demands) into its own buffer and returns the filled copy
                        raw = fcntl.ioctl(fd, _RECV, _ZERO_NOTIF)
                    except OSError:
                        continue   # the caller died between poll and receive
                    nid, tid, _flags, nr, _arch, _ip, *args = _NOTIF.unpack(raw)
                    return fd, 0, (nid, tid, nr, tuple(args))
                return fd, events, None
            try:
                ready = self.poller.poll(timeout)
            except InterruptedError:
                return None
            if not ready:
                return None
            self.ready = ready[::-1]

    @staticmethod
    def send(reply) -> None:
        listener, nid, value, error, flags = reply
        try:
            fcntl.ioctl(listener, _SEND, _RESP.pack(nid, value, error, flags))
        except OSError:
            pass   # ENOENT: the caller died or was interrupted; nothing waits for it
