"""`sandvisor bench [OPTIONS]`: the benchmark suite (bench/driver.py), and
`sandvisor bench --profile WORKLOAD`: one workload with the sentry under cProfile."""

from __future__ import annotations

import sys

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--runs", type=int, default=5, show_default=True,
              help="Samples per workload and target.")
@click.option("--only", metavar="NAME,...", help="Run only these workloads.")
@click.option("--targets", metavar="NAME,...",
              help="Run only these targets (native, sandvisor, runsc, proot, bwrap...).")
@click.option("--target-cmd", "target_cmds", multiple=True, metavar="NAME=PREFIX",
              help="An extra target: each workload runs as PREFIX + its command.")
@click.option("--json", "json_path", metavar="FILE", help="Write the results as JSON.")
@click.option("--markdown", "markdown_path", metavar="FILE", help="Write the Markdown table.")
@click.option("--chart", "chart_path", metavar="FILE.png", help="Draw a chart (matplotlib).")
@click.option("--quick", is_flag=True, help="Small sizes, for a smoke run.")
@click.option("--timeout", type=float, default=600, show_default=True,
              help="Per command, in seconds.")
@click.option("--timing", type=click.Choice(["inner", "delta"]), default="inner",
              show_default=True, help="Per-op figures from the loop's own clock or from "
              "(wall(N) - wall(0)) / N; both are kept.")
@click.option("--profile", "profile_workload", metavar="WORKLOAD",
              help="Instead: run WORKLOAD once under sandvisor with the sentry profiled.")
@click.option("--list", "list_only", is_flag=True, help="List workloads and targets.")
def bench(runs, only, targets, target_cmds, json_path, markdown_path, chart_path, quick,
          timeout, timing, profile_workload, list_only):
    """Benchmark sandvisor against native and the peers installed (runsc, proot, bwrap).
    Same as `python -m bench` (run from the source tree)."""
    try:
        from bench import driver
        from bench.__main__ import main as bench_main
        from bench.workloads import BY_NAME
    except ImportError as exc:
        raise click.ClickException(f"the benchmark suite is not available: {exc}") from exc
    if list_only:
        sys.exit(bench_main(["list"]))
    if profile_workload:
        if profile_workload not in BY_NAME:
            raise click.BadParameter(f"choose from {', '.join(BY_NAME)}",
                                     param_hint="--profile")
        sys.exit(driver.profile(BY_NAME[profile_workload], quick, None, 25, timeout))
    report = driver.main_run(runs=runs, only=only, targets=targets, target_cmds=target_cmds,
                             json_path=json_path, markdown_path=markdown_path,
                             chart_path=chart_path, quick=quick, timeout=timeout,
                             timing=timing)
    failed = any(c["status"] == "failed" for row in report["results"].values()
                 for c in row.values())
    sys.exit(1 if failed else 0)
