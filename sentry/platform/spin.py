"""Poll for an event for a short, adaptive window before sleeping for it.

Why: on this machine kind (a VM whose idle vCPUs halt at once: cpuidle haltpoll with
guest_halt_poll_ns=0) a thread that sleeps is woken through an IPI to a halted vCPU.
The ptrace platform's tracer sleeps in waitpid after each answer, and the tracee's next
stop woke it on the other CPU: a trapped no-op took 52 µs, 13 µs with the whole sandbox
on one CPU (docs/BENCH.md). A tracer still polling when the stop comes needs no
wake-up at all.

The window adapts the way the kernel's haltpoll governor does: a wait that ended
within `max_ns` of its start (the event came soon: a longer window would have caught
it) doubles the window, at least to `start_ns`; a longer wait halves it (below
`FLOOR_NS`, to none), so a program that computes between syscalls soon costs no
polling. An event caught while polling leaves the window as it is.

Polling only pays on a CPU nobody else wants: with more runnable tasks than CPUs it
takes time from them (20 sandboxes building at once: 5% slower). So it is skipped
while the machine's count of runnable tasks (/proc/loadavg, looked at every
`CHECK_NS`) exceeds the CPUs this thread may use.
"""

from __future__ import annotations

import os
import time
from typing import Callable, TypeVar

T = TypeVar("T")

START_NS = 10_000
MAX_NS = 40_000
FLOOR_NS = 1_000      # a shorter window is less than one poll: none at all
CHECK_NS = 10_000_000


def runnable_tasks(fd: int) -> int:
    """The kernel's count of runnable tasks right now: /proc/loadavg's 4th field,
    "running/total" (proc(5)), read from `fd`."""
    return int(os.pread(fd, 128, 0).split()[3].split(b"/")[0])


class AdaptiveSpin:
    def __init__(self, start_ns: int = START_NS, max_ns: int = MAX_NS,
                 clock: Callable[[], int] = time.monotonic_ns,
                 spare_cpu: Callable[[], bool] | None = None,
                 loadavg_path: str = "/proc/loadavg"):
        if not 0 <= start_ns <= max_ns:
            raise ValueError(f"spin window: need 0 <= start ({start_ns}) <= max ({max_ns})")
        self.start_ns = start_ns
        self.max_ns = max_ns
        self.window = start_ns
        self._clock = clock
        self._spare_cpu = spare_cpu or self._spare_cpu_now
        self._spare = False
        self._next_check = 0
        self._loadavg = -1
        self._loadavg_path = loadavg_path

    def wait(self, poll: Callable[[], T | None], block: Callable[[], T]) -> T:
        """`poll()` until it returns an event or the window ends, then `block()`."""
        clock = self._clock
        window = self.window
        begin = clock()
        if begin >= self._next_check:
            self._next_check = begin + CHECK_NS
            self._spare = self._spare_cpu()
        if window and self._spare:
            end = begin + window
            while True:
                got = poll()
                if got is not None:
                    return got
                if clock() >= end:
                    break
        got = block()
        if clock() - begin <= self.max_ns:
            self.window = min(max(window * 2, self.start_ns), self.max_ns)
        else:
            half = window // 2
            self.window = half if half >= FLOOR_NS else 0
        return got

    def _spare_cpu_now(self) -> bool:
        """Whether the runnable tasks (this thread among them) fit the CPUs it may use."""
        try:
            if self._loadavg < 0:
                self._loadavg = os.open(self._loadavg_path, os.O_RDONLY | os.O_CLOEXEC)
            return runnable_tasks(self._loadavg) <= len(os.sched_getaffinity(0))
        except (OSError, ValueError, IndexError):
            return False   # cannot tell: sleeping is never wrong, only slower

    def close(self) -> None:
        if self._loadavg >= 0:
            os.close(self._loadavg)
            self._loadavg = -1
