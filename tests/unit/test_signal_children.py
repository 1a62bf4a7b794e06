"""runner.signal_children: signals forwarded to init's children reach only processes
that are still init's children once pinned by a pidfd (a pid read from the list may
name another host process by the time it is signalled)."""

from __future__ import annotations

import os
import signal
import time

from sentry.runner import signal_children


def _sleeper() -> int:
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    return pid


def _alive(pid: int) -> bool:
    return os.waitpid(pid, os.WNOHANG) == (0, 0)


def test_signal_children_signals_those_still_listed():
    pid = _sleeper()
    signal_children(lambda: [pid], signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


def test_signal_children_spares_a_pid_no_longer_listed():
    """The list named it when read, not once it was pinned: it may be a reused pid."""
    pid = _sleeper()
    reads = iter([[pid], []])
    try:
        signal_children(lambda: next(reads), signal.SIGTERM)
        time.sleep(0.05)
        assert _alive(pid)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

