"""`python -m bench [OPTIONS]`: run the benchmark suite.
`python -m bench profile WORKLOAD`: one workload under sandvisor with the sentry profiled.
`python -m bench --load`: only the load workloads (20 sandboxes building at once, one
sandbox with 200 threads in syscalls; bench/load.py).
`python -m bench api`: sandbox start through the Python API (warm) against `sandvisor do`.
`python -m bench list`: the workloads and the targets found on this machine."""

from __future__ import annotations

import argparse
import sys

from bench import driver
from bench.load import LOAD_WORKLOADS, LoadParams
from bench.workloads import BY_NAME, WORKLOADS


def _run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="samples per workload and target (5)")
    p.add_argument("--only", metavar="NAME,...", help="run only these workloads (the load "
                   "workloads run only when named: load-builds, load-threads, or load for both)")
    p.add_argument("--load", action="store_true",
                   help="add the load workloads (bench/load.py) to the ones selected; with "
                   "no --only, run only them")
    p.add_argument("--load-runs", type=int, metavar="N",
                   help="runs of each load workload and target (1)")
    p.add_argument("--load-sandboxes", type=int, metavar="N",
                   help="load-builds: sandboxes started at once (20; 4 with --quick)")
    p.add_argument("--load-threads", type=int, metavar="N",
                   help="load-threads: threads in the sandbox (200; 20 with --quick)")
    p.add_argument("--load-iterations", type=int, metavar="K",
                   help="load-threads: trapped + host syscalls per thread (500; 50 with "
                   "--quick)")
    p.add_argument("--targets", metavar="NAME,...",
                   help="run only these targets (a prefix selects a family: sandvisor)")
    p.add_argument("--target-cmd", action="append", default=[], metavar="NAME=PREFIX",
                   help="an extra target: the workload runs as PREFIX + its command")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown table")
    p.add_argument("--chart", metavar="FILE.png", help="draw a chart (needs matplotlib)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--timeout", type=float, default=600, help="per command, seconds (600)")
    p.add_argument("--timing", choices=["inner", "delta"], default="inner",
                   help="per-op figures from the loop's own clock, loop time / N (inner, the "
                   "default), or from (wall(N) - wall(0)) / N (delta); both are measured, "
                   "kept in the JSON and shown in the Markdown")
    return p


def _profile_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench profile",
                                description="Run one workload under sandvisor with the "
                                "sentry under cProfile; print the top functions.")
    p.add_argument("workload", choices=list(BY_NAME))
    p.add_argument("--out", metavar="FILE.prof", help="where to keep the profile")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--platform", default=None)
    p.add_argument("--timeout", type=float, default=600)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["profile"]:
        a = _profile_parser().parse_args(argv[1:])
        return driver.profile(BY_NAME[a.workload], a.quick, a.out, a.top, a.timeout, a.platform)
    if argv[:1] == ["api"]:
        p = argparse.ArgumentParser(prog="python -m bench api",
                                    description="Sandbox start through the Python API.")
        p.add_argument("--runs", type=int, default=20)
        p.add_argument("--quick", action="store_true")
        p.add_argument("--json", metavar="FILE")
        a = p.parse_args(argv[1:])
        from bench import api_start
        return api_start.main(a.runs, a.quick, a.json)
    if argv[:1] == ["list"]:
        for w in WORKLOADS:
            print(f"{w.name:14} {w.unit:3} {w.kind:7} {w.title}")
        params = LoadParams.defaults()
        for lw in LOAD_WORKLOADS:
            print(f"{lw.name:14} {'':3} {lw.kind:7} {lw.describe(params)} (only when named)")
        print()
        for t in driver.discover_targets():
            state = "" if t.available else f"   (not run: {t.reason})"
            print(f"{t.name:20} {t.command()}{state}")
        return 0
    if argv[:1] == ["run"]:
        argv = argv[1:]
    a = _run_parser().parse_args(argv)
    only = a.only
    if a.load:
        only = f"{only},load" if only else "load"
    params = LoadParams.defaults(a.quick)
    for name in ("runs", "sandboxes", "threads", "iterations"):
        value = getattr(a, f"load_{name}")
        if value is not None:
            if value < 1:
                raise SystemExit(f"--load-{name} must be at least 1")
            setattr(params, name, value)
    report = driver.main_run(runs=a.runs, only=only, targets=a.targets,
                             target_cmds=tuple(a.target_cmd), json_path=a.json,
                             markdown_path=a.markdown, chart_path=a.chart, quick=a.quick,
                             timeout=a.timeout, timing=a.timing, load_params=params)
    failed = any(c["status"] == "failed" for row in report["results"].values()
                 for c in row.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
