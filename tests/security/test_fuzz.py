"""A syscall fuzzer inside the sandbox: progs/sysfuzz.c issues batches of random
syscalls (mostly the emulated ones) with random arguments, bad pointers, huge sizes and
bad flags. The sentry never crashes (exit 125, a traceback), never hangs (124), and never
answers with a host resource outside the view."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from syscalls.table import Disposition, TABLE
import pytest

from tests.security.conftest import run_sandbox

pytestmark = pytest.mark.usefixtures("host_guard")

# Left out, each because it would legitimately end or stall the fuzzer rather than
# test the sentry: exit/exit_group/rt_sigreturn end it; fork/vfork/clone/clone3 with
# random flags and stacks duplicate or crash it; kill/tkill/tgkill may signal itself.
# pause and the other host-run blocking calls are never drawn (only emulated and denied
# syscalls are), and stdin is at EOF before the first call.
EXCLUDED = {15, 56, 57, 58, 60, 62, 200, 231, 234, 435}


def _entries(disp):
    return sorted(nr for nr, e in TABLE.items() if e.disposition is disp and nr not in EXCLUDED)


EMULATED = _entries(Disposition.EMULATE)
DENIED = _entries(Disposition.DENY)

POINTERS = [f"p{i}" for i in range(16)]
NUMBERS = [0, 1, 2, 3, -1, -100, 0xFFFFFFFFFFFF, 1 << 31, (1 << 63) - 1, -(1 << 63),
           4096, 1 << 20, 0o777, 0o7777, 0x80000, 0x100, 0x200, 0x400, 0x1000, 0x10000]
arg = st.one_of(st.sampled_from(POINTERS), st.sampled_from(NUMBERS),
                st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
                st.integers(min_value=0, max_value=1 << 20))
nr = st.one_of(st.sampled_from(EMULATED), st.sampled_from(EMULATED), st.sampled_from(EMULATED),
               st.sampled_from(EMULATED), st.sampled_from(DENIED))
call = st.tuples(nr, st.lists(arg, min_size=6, max_size=6))
batch = st.lists(call, min_size=40, max_size=60)


@settings(max_examples=15, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a sandbox
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(calls=batch)
def test_random_syscalls_never_crash_hang_or_leak(sec_root, secret, calls):
    script = "".join(f"{n} {' '.join(map(str, args))}\n" for n, args in calls)
    (secret.dir.parent / "batch.txt").write_text(script)  # kept for reproduction
    res = run_sandbox(sec_root, ["/bin/sysfuzz", secret.rel_dir + "/secret"], "--timeout", "20",
                      timeout=60, input=script.encode())
    assert res.returncode not in (124, 125), (res.returncode, res.stderr[-3000:], script)
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    # the batch ran to its end (no call in it may end the fuzzer)
    assert f"fuzz done {len(calls)}" in res.stdout, (res.returncode, res.stdout[-2000:], script)
    assert secret.token not in res.stdout + res.stderr, script
    for line in res.stdout.splitlines():
        if line.startswith("fd ") and " -> " in line:
            target = line.split(" -> ", 1)[1]
            assert str(secret.dir) not in target and "/upper" not in target, (line, script)
