"""AdaptiveSpin (sentry/platform/spin.py): how long it polls before it sleeps, and when
it does not poll at all. A fake clock advances by what each poll or block costs."""

import os

import pytest

from sentry.platform import spin
from sentry.platform.spin import AdaptiveSpin


class FakeClock:
    def __init__(self):
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def make(clock, start=10_000, max_ns=40_000, spare=True):
    checks = []

    def spare_cpu():
        checks.append(clock.now)
        return spare

    return AdaptiveSpin(start, max_ns, clock=clock, spare_cpu=spare_cpu), checks


def poller(clock, ready_after: int | None, step: int = 1_000):
    """poll() that costs `step` ns and has an event once `ready_after` ns have passed
    (never, for None); it records how often it was called."""
    begin = clock.now
    calls = []

    def poll():
        calls.append(clock.now)
        clock.now += step
        if ready_after is not None and clock.now - begin >= ready_after:
            return "polled"
        return None

    return poll, calls


def blocker(clock, sleeps: int):
    def block():
        clock.now += sleeps
        return "woken"
    return block


def test_spin_event_caught_while_polling_keeps_the_window():
    clock = FakeClock()
    s, _ = make(clock)
    poll, calls = poller(clock, ready_after=5_000)
    assert s.wait(poll, blocker(clock, 1)) == "polled"
    assert len(calls) == 5
    assert s.window == 10_000


def test_spin_polls_for_the_window_then_blocks():
    clock = FakeClock()
    s, _ = make(clock)
    poll, calls = poller(clock, ready_after=None)
    assert s.wait(poll, blocker(clock, 5_000)) == "woken"
    assert len(calls) == 10                  # 10 µs of 1 µs polls
    assert s.window == 20_000                # woken 15 µs after the start: grow


def test_spin_window_grows_to_the_maximum():
    clock = FakeClock()
    s, _ = make(clock)
    for expected in (20_000, 40_000, 40_000):
        poll, _ = poller(clock, ready_after=None)
        s.wait(poll, blocker(clock, 0))
        assert s.window == expected


def test_spin_long_waits_halve_the_window_down_to_none():
    clock = FakeClock()
    s, _ = make(clock)
    seen = []
    for _ in range(5):
        poll, _ = poller(clock, ready_after=None)
        s.wait(poll, blocker(clock, 1_000_000))
        seen.append(s.window)
    assert seen == [5_000, 2_500, 1_250, 0, 0]   # below FLOOR_NS: no polling at all
    poll, calls = poller(clock, ready_after=None)
    s.wait(poll, blocker(clock, 1_000_000))
    assert calls == []


def test_spin_short_wait_after_none_restarts_at_the_start_window():
    clock = FakeClock()
    s, _ = make(clock)
    s.window = 0
    poll, calls = poller(clock, ready_after=None)
    s.wait(poll, blocker(clock, 2_000))
    assert calls == []
    assert s.window == 10_000


def test_spin_without_a_spare_cpu_blocks_at_once():
    clock = FakeClock()
    s, _ = make(clock, spare=False)
    poll, calls = poller(clock, ready_after=0)
    assert s.wait(poll, blocker(clock, 3_000)) == "woken"
    assert calls == []


def test_spin_asks_for_a_spare_cpu_once_per_period():
    clock = FakeClock()
    s, checks = make(clock)
    for _ in range(3):
        poll, _ = poller(clock, ready_after=2_000)
        s.wait(poll, blocker(clock, 0))
    assert len(checks) == 1
    clock.now += spin.CHECK_NS
    poll, _ = poller(clock, ready_after=2_000)
    s.wait(poll, blocker(clock, 0))
    assert len(checks) == 2


def test_spin_zero_start_never_polls():
    clock = FakeClock()
    s, _ = make(clock, start=0)
    for _ in range(3):
        poll, calls = poller(clock, ready_after=0)
        assert s.wait(poll, blocker(clock, 100)) == "woken"
        assert calls == []
    assert s.window == 0


@pytest.mark.parametrize("start, max_ns", [(-1, 10), (20, 10)])
def test_spin_rejects_a_bad_window(start, max_ns):
    with pytest.raises(ValueError, match="spin window"):
        AdaptiveSpin(start, max_ns)


def test_spin_runnable_tasks_reads_loadavg_fourth_field(tmp_path):
    f = tmp_path / "loadavg"
    f.write_bytes(b"16.66 8.05 3.90 7/86 24501\n")
    fd = os.open(f, os.O_RDONLY)
    try:
        assert spin.runnable_tasks(fd) == 7
        assert spin.runnable_tasks(fd) == 7      # pread: the offset does not move
    finally:
        os.close(fd)


@pytest.mark.parametrize("running, spare", [("one", True), ("cpus", True),
                                            ("cpus+1", False)])
def test_spin_spare_cpu_compares_runnable_tasks_with_usable_cpus(tmp_path, running, spare):
    cpus = len(os.sched_getaffinity(0))
    count = {"one": 1, "cpus": cpus, "cpus+1": cpus + 1}[running]
    f = tmp_path / "loadavg"
    f.write_bytes(b"0.00 0.00 0.00 %d/86 24501\n" % count)
    s = AdaptiveSpin(loadavg_path=str(f))
    try:
        assert s._spare_cpu_now() is spare
        f.write_bytes(b"0.00 0.00 0.00 %d/86 24501\n" % (cpus + 1))
        assert s._spare_cpu_now() is False     # read again, from the kept descriptor
    finally:
        s.close()


def test_spin_spare_cpu_unknown_means_no_polling(tmp_path):
    missing = AdaptiveSpin(loadavg_path=str(tmp_path / "absent"))
    assert missing._spare_cpu_now() is False
    garbled = tmp_path / "loadavg"
    garbled.write_bytes(b"garbage\n")
    s = AdaptiveSpin(loadavg_path=str(garbled))
    try:
        assert s._spare_cpu_now() is False
    finally:
        s.close()


def test_spin_proc_loadavg_counts_this_thread():
    fd = os.open("/proc/loadavg", os.O_RDONLY)
    try:
        assert spin.runnable_tasks(fd) >= 1      # the thread reading it is running
    finally:
        os.close(fd)
