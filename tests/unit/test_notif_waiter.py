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
ARGS = (0x1111, 0x2222, 0x3333, 0xFFFF_FFFF_FFFF_FFF0, 0x5555_0000_0000, 6)  # getppid ignores them
WAITERS = {"native": ffi.NativeNotifWaiter, "python": PollWaiter}


def _traced_child(calls: int, cpus: set[int] | None = None, write_to_answer: bool = False):
    """A child whose getppid is trapped; it calls it `calls` times and writes what it
    got back to a pipe (and, with `write_to_answer`, b"injected" to the descriptor each
    answer names), its affinity first set to `cpus` if given. Returns (pid, listener,
    read end of the results)."""
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
            if cpus is not None:
                os.sched_setaffinity(0, cpus)
            ffi.prctl(ffi.PR_SET_NO_NEW_PRIVS, 1)
            listener = ffi.seccomp_load_filter(bpf, ffi.SECCOMP_FILTER_FLAG_NEW_LISTENER)
            child_sock.sendmsg([b"L"], ffi.rights(listener))
            os.close(listener)
            child_sock.recv(1)
            import ctypes
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            got = []
            for _ in range(calls):
                ret = libc.syscall(NR_GETPPID, *(ctypes.c_ulong(a) for a in ARGS))
                got.append(str(ret) if ret >= 0 else f"E{ctypes.get_errno()}")
                if write_to_answer and ret >= 0:
                    os.write(ret, b"injected")
            os.write(results_w, " ".join(got).encode())
        finally:
            os._exit(0)
    os.close(results_w)
    _msg, ancdata, _flags, _addr = parent_sock.recvmsg(8, socket.CMSG_SPACE(4))
    listener = ffi.received_fds(ancdata)[0]
    parent_sock.send(b"g")
    return pid, listener, results_r


@pytest.mark.parametrize("kind", WAITERS)
def test_waiter_receives_notifications_and_answers_and_sees_the_listener_hang_up(kind):
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
        assert (tid, nr, args) == (pid, NR_GETPPID, ARGS)   # the layout, field by field
        assert nid > 0
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


# -- injecting a descriptor (ffi.notif_addfd; native.c, sv_addfd) -----------------

ADDFD = {"native": ffi._notif_addfd_native, "python": ffi._notif_addfd_ioctl}


@pytest.mark.parametrize("kind", ADDFD)
def test_addfd_installs_the_descriptor_in_the_caller(kind):
    assert kind == "python" or ffi.NativeNotifWaiter.available()
    pid, listener, results = _traced_child(1, write_to_answer=True)
    r, w = os.pipe()
    waiter = PollWaiter()
    waiter.add(listener, True)
    _fd, _events, (nid, tid, _nr, _args) = waiter.next(None, 5000)
    newfd = ADDFD[kind](listener, nid, w, True, tid)
    os.close(w)
    waiter.send((listener, nid, newfd, 0, 0))
    assert os.read(r, 100) == b"injected"
    assert os.read(results, 100) == str(newfd).encode()
    os.waitpid(pid, 0)
    for fd in (r, results, listener):
        os.close(fd)


def _addfd_pinning(child_cpus: set[int], own_cpu: int) -> tuple[int, set[int], set[int]]:
    """sv_addfd from a sentry on `own_cpu` into a child allowed `child_cpus`: (whether
    it narrowed the child's affinity, the child's affinity after, before)."""
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {own_cpu})
    try:
        pid, listener, results = _traced_child(1, cpus=child_cpus, write_to_answer=True)
        r, w = os.pipe()
        waiter = PollWaiter()
        waiter.add(listener, True)
        _fd, _events, (nid, tid, _nr, _args) = waiter.next(None, 5000)
        before = os.sched_getaffinity(tid)
        pinned = ffi._cffi.new("int *")
        newfd = ffi._native.sv_addfd(listener, nid, w, 0, tid, pinned)
        after = os.sched_getaffinity(tid)
        os.close(w)
        assert newfd >= 0, os.strerror(-newfd)
        waiter.send((listener, nid, newfd, 0, 0))
        assert os.read(r, 100) == b"injected"
        os.waitpid(pid, 0)
        for fd in (r, results, listener):
            os.close(fd)
        return pinned[0], after, before
    finally:
        os.sched_setaffinity(0, own)


def _two_cpus() -> list[int]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("holding a caller on one CPU needs two to choose from")
    return cpus[:2]


def test_addfd_holds_the_caller_on_the_sentrys_cpu_then_restores_its_mask():
    first, second = _two_cpus()
    pinned, after, before = _addfd_pinning({first, second}, first)
    assert pinned == 1
    assert before == after == {first, second}


def test_addfd_leaves_a_caller_kept_off_the_sentrys_cpu_alone():
    # the application chose its CPUs: ADDFD never runs its thread elsewhere
    first, second = _two_cpus()
    pinned, after, before = _addfd_pinning({second}, first)
    assert pinned == 0
    assert before == after == {second}


def test_addfd_leaves_a_caller_on_one_cpu_alone():
    first, _second = _two_cpus()
    pinned, after, _before = _addfd_pinning({first}, first)
    assert pinned == 0 and after == {first}


@pytest.mark.parametrize("check", [ffi._notif_id_valid_native, ffi._notif_id_valid_ioctl],
                         ids=["native", "ioctl"])
def test_id_valid_until_the_notification_is_answered(check):
    assert ffi.NativeNotifWaiter.available()
    waiter = ffi.NativeNotifWaiter()
    pid, listener, results = _traced_child(1)
    waiter.add(listener, True)
    _fd, _events, (nid, _tid, _nr, _args) = waiter.next(None, 5000)
    assert check(listener, nid)
    assert not check(listener, nid + 1)   # never sent
    waiter.send((listener, nid, 5, 0, 0))
    assert not check(listener, nid)       # answered: its caller's tid may be anyone's now
    assert os.read(results, 100) == b"5"
    os.waitpid(pid, 0)
    os.close(results)
    os.close(listener)
