"""The harness catches targets that behave differently, hang, crash or are missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conformance import harness

HERE = Path(__file__).resolve().parent
SAMPLE = "open_create_rdwr,getpid_gettid,unlink_basic,pipe_roundtrip,stat_errors,futex_wake_nobody"


@pytest.fixture(scope="module")
def eacces_shim(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shim") / "eacces.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(HERE / "eacces_shim.c")],
                   check=True)
    return out


@pytest.fixture(scope="module")
def sample_cases() -> list[harness.Case]:
    cases = harness.discover(SAMPLE)
    assert len(cases) == 6
    return cases


def _run(cases, spec: str, timeout: float = 20) -> dict[str, harness.Result]:
    session = harness.run_cases(cases, [harness.make_target(spec)], jobs=2, timeout=timeout)
    return {r.case.name: r for r in session.of(session.targets[0])}


def test_open_failing_with_eacces_is_caught(sample_cases, eacces_shim):
    results = _run(sample_cases, f"env LD_PRELOAD={eacces_shim}")
    for name in ("test_open_create_rdwr", "test_unlink_basic", "test_stat_errors"):
        assert results[name].status == harness.FAIL, name
    assert "EACCES" in results["test_unlink_basic"].diff
    # Cases that never open a file are unaffected: the harness does not fail blindly.
    assert results["test_getpid_gettid_main_thread"].status == harness.PASS
    assert results["test_futex_wake_nobody"].status == harness.PASS


def test_altered_output_is_caught(sample_cases):
    results = _run(sample_cases, "sh -c '\"$@\" | sed s/ENOENT/EACCES/' sh")
    assert results["test_stat_errors"].status == harness.FAIL
    assert "-SC(SYS_stat, \"missing\", &st) = -1 ENOENT" in results["test_stat_errors"].diff
    assert results["test_pipe_roundtrip"].status == harness.PASS


def test_hang_is_a_failure_and_the_run_goes_on(sample_cases):
    results = _run(sample_cases[:2], "sh -c 'sleep 60' sh", timeout=2)
    assert [r.status for r in results.values()] == [harness.FAIL, harness.FAIL]
    assert all(r.reason == "timed out (hang)" for r in results.values())


def test_crash_is_a_failure_with_reason(sample_cases):
    results = _run(sample_cases[:1], "sh -c 'kill -SEGV $$' sh")
    (res,) = results.values()
    assert res.status == harness.FAIL
    assert "crashed" in res.reason or "exit status" in res.reason


def test_missing_target_is_skipped_with_reason(sample_cases):
    results = _run(sample_cases[:2], "no-such-runtime-xyz do")
    assert all(r.status == harness.SKIP for r in results.values())
    assert all("not installed" in r.reason for r in results.values())


def test_cli_exit_status_reports_failures(eacces_shim):
    """`sandvisor conformance run` exits 1 when a case fails unexpectedly."""
    import sys
    proc = subprocess.run([sys.executable, "-m", "sentry", "conformance", "run", "-k",
                           "unlink_basic", "--target", f"env LD_PRELOAD={eacces_shim}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "UNEXPECTED" in proc.stdout
