"""The unotify loop's answer-and-wait step: the native one (sentry/native.c, sv_step,
through ffi.NativeNotifWaiter) and its pure-Python twin (unotify.PollWaiter) keep one
contract, checked here on both against a real seccomp listener and real pipes."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from sentry import ffi
from sentry.platform.bpf import export
from sentry.platform.unotify import PollWaiter

NR_GETPPID = 110
WAITERS = {"native": ffi.NativeNotifWaiter, "python": PollWaiter}


def _traced_child(calls: int):
    """A child whose getppid is trapped; it calls it `calls` times and writes what it
    got back to a pipe. Returns (pid, listener, read end of the results)."""
    import pyseccomp as seccomp
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.add_rule(seccomp.NOTIFY, "getppid")
    bpf = export(f)
    parent_sock, child_sock = socket.socketpair()
    results_r, results_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(results_r)
            ffi.prctl(ffi.PR_SET_NO_NEW_PRIVS, 1)
            listener = ffi.seccomp_load_filter(bpf, ffi.SECCOMP_FILTER_FLAG_NEW_LISTENER)
            child_sock.sendmsg([b"L"], ffi.rights(listener))
            os.close(listener)
            child_sock.recv(1)
            import ctypes
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            got = []
            for _ in range(calls):
                ret = libc.syscall(NR_GETPPID)
                got.append(str(ret) if ret >= 0 else f"E{ctypes.get_errno()}")
            os.write(results_w, " ".join(got).encode())
        finally:
            os._exit(0)
    os.close(results_w)
    _msg, ancdata, _flags, _addr = parent_sock.recvmsg(8, socket.CMSG_SPACE(4))
    listener = ffi.received_fds(ancdata)[0]
    parent_sock.send(b"g")
    return pid, listener, results_r


@pytest.mark.parametrize("kind", WAITERS)
def test_waiter_receives_answers_and_sees_the_listener_hang_up(kind):
    waiter = WAITERS[kind]()
    assert kind == "python" or waiter.available()
    pid, listener, results = _traced_child(3)
    waiter.add(listener, True)
    answers = [(4242, 0), (0, -errno.EPERM), (7, 0)]
    reply = None
    for value, error in answers:
        fd, events, notif = waiter.next(reply, 5000)
        assert (fd, events) == (listener, 0)
        nid, tid, nr, args = notif
        assert (tid, nr, len(args)) == (pid, NR_GETPPID, 6)
        reply = (listener, nid, value, error, 0)
    # the last answer goes with the next wait, which then sees the listener hang up
    fd, events, notif = waiter.next(reply, 5000)
    assert fd == listener and notif is None and events & (1 << 4)   # POLLHUP
    assert os.read(results, 100) == b"4242 E1 7"
    os.waitpid(pid, 0)
    os.close(results)
    os.close(listener)


@pytest.mark.parametrize("kind", WAITERS)
def test_waiter_serves_every_ready_fd_before_polling_again(kind):
    waiter = WAITERS[kind]()
    pipes = [os.pipe() for _ in range(3)]
    for r, _w in pipes:
        waiter.add(r, False)
    assert waiter.next(None, 0) is None             # nothing ready: a timeout
    for _r, w in pipes:
        os.write(w, b"x")
    # all three stay readable; each is reported once before any is reported again
    seen = [waiter.next(None, 1000)[0] for _ in range(3)]
    assert sorted(seen) == sorted(r for r, _w in pipes)
    assert waiter.next(None, 1000)[0] in seen       # the next poll finds them again
    waiter.remove(pipes[0][0])
    seen = {waiter.next(None, 1000)[0] for _ in range(4)}
    assert pipes[0][0] not in seen
    for r, w in pipes:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("kind", WAITERS)
def test_waiter_send_answers_without_waiting(kind):
    waiter = WAITERS[kind]()
    pid, listener, results = _traced_child(1)
    waiter.add(listener, True)
    _fd, _events, notif = waiter.next(None, 5000)
    waiter.send((listener, notif[0], 31337, 0, 0))
    assert os.read(results, 100) == b"31337"
    os.waitpid(pid, 0)
    os.close(results)
    os.close(listener)
