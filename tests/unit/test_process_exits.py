"""unotify's ProcessExits: a process's tasks are forgotten once it has exited, however
it ended (a signal never makes the exit_group call that would say so)."""

from __future__ import annotations

import os
import select
import signal

from sentry.kernel import Kernel
from sentry.platform.unotify import ProcessExits


def _sleeper() -> int:
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    return pid


def test_process_exits_forgets_a_process_killed_by_a_signal():
    kernel = Kernel(gofer=None, vfs=None)
    exits = ProcessExits(kernel)
    pid, other = _sleeper(), _sleeper()
    try:
        kernel.task(pid)
        kernel.task(other)
        assert kernel.on_task == exits.watch and exits.tgids == {pid, other}
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        poller = select.poll()
        poller.register(exits.fileno(), select.POLLIN)
        assert poller.poll(5000), "the exit was not seen"
        exits.reap()
        assert pid not in kernel.tasks and other in kernel.tasks
        assert exits.tgids == {other} and len(exits.pidfds) == 1
    finally:
        os.kill(other, signal.SIGKILL)
        os.waitpid(other, 0)
        exits.close()
    assert kernel.on_task is None and not exits.pidfds


def test_process_exits_forgets_a_task_whose_process_is_gone_already():
    kernel = Kernel(gofer=None, vfs=None)
    exits = ProcessExits(kernel)
    pid = _sleeper()
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        kernel.task(pid)   # its status cannot be read: a task with its own tid as tgid
        assert pid not in kernel.tasks and not exits.tgids
    finally:
        exits.close()


def test_process_exits_says_once_when_it_cannot_watch():
    import resource
    logged = []
    kernel = Kernel(gofer=None, vfs=None, log_error=logged.append)
    exits = ProcessExits(kernel)
    pids = [_sleeper() for _ in range(3)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (3, hard))   # no descriptor left
        for pid in pids:
            kernel.task(pid)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        exits.close()
    assert len(logged) == 1 and "ulimit -n" in logged[0], logged
    assert not exits.tgids
