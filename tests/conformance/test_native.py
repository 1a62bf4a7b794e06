"""The cases themselves: enough of them, well named, deterministic, passing natively."""

from __future__ import annotations

import re

from conformance import harness
from syscalls.table import NUMBERS

FAMILIES = {"file", "dir", "stat", "fd", "rw", "mm", "process", "signal", "ipc", "time",
            "identity", "procdev", "xattr", "inotify", "poll", "eventfd", "memfd", "futex"}


def test_every_case_passes_natively(native_session):
    """Native vs native: a case that fails here is non-deterministic or broken."""
    results = native_session.of("native")
    bad = [f"{r.case.name}: {r.reason}\n{r.diff}" for r in results if r.status != harness.PASS]
    assert not bad, "\n".join(bad)
    assert len(results) == len(native_session.cases)


def test_enough_cases_and_syscalls(all_cases):
    covered = {name for case in all_cases for name in case.syscalls}
    assert len(all_cases) >= 250
    assert len(covered) >= 150, sorted(covered)
    assert {c.family.name for c in all_cases} >= FAMILIES


def test_case_names_and_syscalls_are_real(all_cases):
    """test_<syscall>_<behaviour>, where <syscall> is the first syscall the case lists."""
    names = [c.name for c in all_cases]
    assert len(names) == len(set(names)), "duplicate case names"
    for case in all_cases:
        assert case.syscalls, case.name
        unknown = [s for s in case.syscalls if s not in NUMBERS]
        assert not unknown, f"{case.name}: not x86_64 syscalls: {unknown}"
        assert re.fullmatch(rf"test_{case.syscalls[0]}_[a-z0-9_]+", case.name), case.name


def test_declared_normalisations_apply(all_cases):
    procdev = next(c for c in all_cases if c.name == "test_openat_proc_self_stat")
    assert procdev.normalise("  stat pid=4242\n", "/x") == "  stat pid=N\n"
    # The scratch directory is always rewritten, whatever the case.
    assert procdev.normalise("cwd=/tmp/abc/def\n", "/tmp/abc") == "cwd=$TMP/def\n"


def test_binaries_are_cached(all_cases, tmp_path):
    source = harness.CASES_DIR / "memfd.c"
    first = harness.load_family(source, tmp_path)
    again = harness.load_family(source, tmp_path)
    assert first.program == again.program
    assert len(list(tmp_path.iterdir())) == 1
