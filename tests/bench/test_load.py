"""The load workloads (bench/load.py) at small sizes: several sandboxes building at once,
one sandbox with many threads in syscalls, natively and under sandvisor.

No timing assertions: only that every instance ran and checked its result, that the
statistics are there and ordered, and that an instance that fails (or prints another's
answer) turns the whole cell into a failure rather than a time."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from bench import driver
from bench.driver import Target
from bench.load import (LOAD_BY_NAME, LoadParams, ThreadsCheck, expected_build_output,
                        percentile, plan_builds, run_at_once, run_load)
from bench.workloads import _equals
from tests.conftest import PLATFORM, REPO

SMALL = LoadParams(sandboxes=4, modules=3, threads=20, iterations=30)
NATIVE = Target("native", [], kind="native", env=driver.HOST_TMP)


def _sandvisor(platform: str | None = None) -> Target:
    platform = platform or (None if PLATFORM["name"] == "auto" else PLATFORM["name"])
    return Target(f"sandvisor-{platform or 'default'}", driver.sandvisor_prefix(platform),
                  kind="sandvisor")


def _usable_platforms() -> list[str]:
    from sentry.platform import probe_all
    return [p.name for p in probe_all() if p.usable]


def _check_builds(cell: dict, n: int, runs: int = 1) -> None:
    assert cell["status"] == "ok", cell
    assert cell["instances"] == n and cell["runs"] == runs
    assert len(cell["latency_samples"]) == n * runs and len(cell["wall_samples"]) == runs
    assert cell["wall_s"] > 0 and cell["throughput_per_s"] > 0
    lat = cell["latency_s"]
    assert 0 < lat["min"] <= lat["median"] <= lat["p95"] <= lat["max"]
    # every sandbox ran inside a measured window
    assert lat["max"] <= max(cell["wall_samples"]) + 1e-3


def _check_threads(cell: dict, params: LoadParams) -> None:
    assert cell["status"] == "ok", cell
    prog = cell["program"][0]
    calls = params.threads * params.iterations
    assert prog["distinct"] == params.threads
    assert prog["trapped_ok"] == prog["host_ok"] == calls
    assert cell["syscalls_per_s"] > 0
    assert cell["trapped_per_s"] == pytest.approx(cell["syscalls_per_s"] / 2)
    for kind in ("trapped", "host"):
        ns = cell[f"{kind}_ns"]
        assert 0 <= ns["p50"] <= ns["p99"] <= ns["max"]


def test_load_natively_and_under_sandvisor():
    targets = [NATIVE, _sandvisor()]
    results = run_load([LOAD_BY_NAME["load-builds"], LOAD_BY_NAME["load-threads"]],
                       targets, SMALL, timeout=120)
    for t in targets:
        _check_builds(results["load-builds"][t.name], SMALL.sandboxes)
        _check_threads(results["load-threads"][t.name], SMALL)
    sandboxed = results["load-builds"][targets[1].name]
    assert sandboxed["ratio_native"]["wall"] > 0
    assert sandboxed["ratio_native"]["latency_median"] > 0
    assert results["load-threads"][targets[1].name]["ratio_native"]["throughput"] > 0


@pytest.mark.parametrize("platform", ["unotify", "ptrace"])
def test_threads_on_each_platform(platform):
    if platform not in _usable_platforms():
        pytest.skip(f"platform {platform} is not usable here")
    params = LoadParams(threads=20, iterations=20)
    results = run_load([LOAD_BY_NAME["load-threads"]], [_sandvisor(platform)], params,
                       timeout=60)
    _check_threads(results["load-threads"][f"sandvisor-{platform}"], params)


def test_failing_instances_are_caught_and_fail_the_cell():
    params = LoadParams(sandboxes=3, modules=2)
    plans = plan_builds(params)
    # instance 0: make fails inside the sandbox (exit status); instance 1 expects another
    # seed's answer: its build succeeds, its check must not; instance 2 is right
    plans[0].argv = ["/bin/sh", "-c", "make -s -C /nonexistent"]
    plans[1].expect = _equals(expected_build_output(params.modules, 99))
    run = run_at_once(_sandvisor(), plans, timeout=60)
    assert "exit status" in run.instances[0].error
    assert "expected output" in run.instances[1].error
    assert run.instances[2].ok
    assert run.failed == run.instances[:2]

    # the same plans in run_load (natively): the cell is failed and carries no timings
    rigged = replace(LOAD_BY_NAME["load-builds"], plan=lambda p: plans)
    cell = run_load([rigged], [NATIVE], params, timeout=60)["load-builds"]["native"]
    assert cell["status"] == "failed"
    assert cell["failed_instances"] == 2
    assert "2 of 3 failed" in cell["error"] and "#0" in cell["error"]
    assert "wall_s" not in cell and "latency_s" not in cell


def test_threads_check_rejects_wrong_output():
    good = ("threads=4 distinct=4 trapped_ok=40 host_ok=40\n"
            "trapped_p50_ns=5 trapped_p99_ns=9 trapped_max_ns=12\n"
            "host_p50_ns=1 host_p99_ns=2 host_max_ns=3\n")
    check = ThreadsCheck(4, 10)
    assert check(good) is None and check.values["distinct"] == 4
    for bad in ("", "garbage\n", good.replace("trapped_ok=40", "trapped_ok=39"),
                good.replace("distinct=4", "distinct=3"),
                good.replace("threads=4", "threads=2"),
                good.replace("host_ok=40", "host_ok=0"),
                good.replace("trapped_p99_ns=9", "trapped_p99_ns=3"),
                good.replace("host_max_ns=3\n", "")):
        assert ThreadsCheck(4, 10)(bad) is not None, bad


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 10
    assert percentile(values, 0.95) == 19
    assert percentile(values, 1.0) == 20
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([2.0, 1.0], 0.95) == 2.0


def test_cli_runs_the_load_workloads_and_reports_failures(tmp_path):
    out, md = tmp_path / "load.json", tmp_path / "load.md"
    # --load with no --only: only the load workloads; `broken` prints its command line
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--load", "--quick", "--load-sandboxes", "3",
         "--load-runs", "2", "--targets", "native,broken", "--target-cmd", "broken=echo",
         "--json", str(out), "--markdown", str(md)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(out.read_text())
    assert [w["name"] for w in report["workloads"]] == ["load-builds", "load-threads"]
    assert report["config"]["load"]["sandboxes"] == 3
    native = report["results"]["load-builds"]["native"]
    _check_builds(native, 3, runs=2)
    _check_threads(report["results"]["load-threads"]["native"],
                   LoadParams(**report["config"]["load"]))
    for name in ("load-builds", "load-threads"):
        broken = report["results"][name]["broken"]
        assert broken["status"] == "failed" and broken["error"], broken
        assert "syscalls_per_s" not in broken and "wall_s" not in broken
    text = md.read_text()
    assert "**load-builds**: 3 sandboxes at once" in text and "median of 2 runs" in text
    assert f"| native | {driver._fmt(native['wall_s'])} (" in text     # min–max of runs
    assert "| broken | **FAILED**" in text
    assert "| native | " in text and "geomean" not in text


def test_sandvisor_bench_selects_load_by_name(tmp_path):
    # `sandvisor bench --only load-threads`: the name goes through the same selection
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, "-m", "sentry", "bench", "--only", "load-threads", "--quick",
         "--targets", "native", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [w["name"] for w in report["workloads"]] == ["load-threads"]
    _check_threads(report["results"]["load-threads"]["native"], LoadParams.defaults(True))
    assert "**load-threads**: one sandbox, 20 threads" in proc.stdout
