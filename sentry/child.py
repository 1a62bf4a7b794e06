"""Forking sandvisor's own helper processes (the gofer, init's launcher, the OCI exec
helper): each dies with the process that forked it and keeps only the descriptors it
is given."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

from sentry import ffi
from sentry.startup import start_collecting


def fork_helper(name: str | None, keep: Iterable[int]) -> int:
    """os.fork(). The child dies with this process (PR_SET_PDEATHSIG, and at once if it
    is already gone), takes `name`, and closes every descriptor above stdio but `keep`.
    Returns the child's pid, or 0 in the child."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            ffi.prctl(ffi.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)
            if name:
                ffi.set_process_name(name)
            close_all_but(set(keep))
            start_collecting()   # a helper serves for the sandbox's life
        except BaseException:  # noqa: BLE001 - a half-set-up child must not run on
            os._exit(1)
    return pid


def close_all_but(keep: set[int]) -> None:
    """Close every descriptor above stdio but `keep` (negative entries are ignored):
    nothing of the sentry's (pidfds, namespace handles, pipes) may stay reachable."""
    low = 3
    for fd in sorted(keep | {1 << 20}):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
