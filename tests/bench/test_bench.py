"""Smoke test of the benchmark driver: --quick, cheap workloads, native and sandvisor.

No timing assertions: only that the driver produces medians, and that a workload whose
self-check fails is reported as failed rather than timed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

CHEAP = "start,noop,getppid"


def _bench(tmp_path, *args: str, timeout: float = 80) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--runs", "1",
                           "--json", str(out), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert out.exists(), proc.stderr
    return proc, json.loads(out.read_text())


def test_quick_run_native_and_sandvisor(tmp_path):
    md = tmp_path / "bench.md"
    # "sandvisor-unotify" selects every file-access mode of that platform, if there are several
    proc, report = _bench(tmp_path, "--only", CHEAP, "--targets", "native,sandvisor-unotify",
                          "--markdown", str(md))
    assert proc.returncode == 0, proc.stderr
    assert {w["name"] for w in report["workloads"]} == set(CHEAP.split(","))
    sandvisor = [t["name"] for t in report["targets"] if t["name"].startswith("sandvisor-")]
    assert sandvisor and all(t["available"] for t in report["targets"])
    for name in CHEAP.split(","):
        for target in ["native", *sandvisor]:
            cell = report["results"][name][target]
            assert cell["status"] == "ok", cell
            assert isinstance(cell["median"], float)
            assert cell["min"] <= cell["median"] <= cell["max"]
        for target in sandvisor:
            assert "ratio_native" in report["results"][name][target]
    # per-op rows carry both timings
    assert "delta_median" in report["results"]["noop"]["native"]
    text = md.read_text()
    assert "| workload | unit | native | " + " | ".join(sandvisor) + " |" in text
    assert "Machine:" in text


@pytest.mark.parametrize("prefix", ["echo", "/bin/false"])
def test_failing_target_is_reported_not_timed(tmp_path, prefix):
    # `echo CMD` exits 0 but prints the command line instead of the result: the output
    # check must catch it; `false` fails by exit status.
    proc, report = _bench(tmp_path, "--only", "start,noop", "--targets", "native,broken",
                          "--target-cmd", f"broken={prefix}")
    assert proc.returncode == 1
    for name in ("start", "noop"):
        assert report["results"][name]["native"]["status"] == "ok"
        broken = report["results"][name]["broken"]
        assert broken["status"] == "failed", broken
        assert "median" not in broken and broken["samples"] == []
        assert broken["error"]
    assert report["geomean"]["broken"]["ratio_native"] is None
    assert report["geomean"]["broken"]["complete"] is False


def test_workload_checks_reject_wrong_output():
    from bench.workloads import WORKLOADS
    for w in WORKLOADS:
        if not w.cheap:
            continue
        prep = w.prepare(True)
        assert prep.expect("") is not None
        assert prep.expect("garbage\n") is not None
        if prep.base_expect:
            assert prep.base_expect("1\n") is not None


def test_profile_prints_top_functions(tmp_path):
    prof = tmp_path / "noop.prof"
    proc = subprocess.run([sys.executable, "-m", "bench", "profile", "noop", "--quick",
                           "--out", str(prof), "--top", "5"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert prof.exists()
    assert "top 5 by cumulative time" in proc.stdout
    assert "top 5 by total (own) time" in proc.stdout
    # the sentry's event loop was profiled (it need not be in the top 5: on a first run
    # in a fresh checkout, compiling .pyc files can outweigh 2000 quick iterations)
    import pstats
    stats = pstats.Stats(str(prof)).stats
    assert any(func == "serve" and path.endswith("unotify.py") for path, _line, func in stats)
