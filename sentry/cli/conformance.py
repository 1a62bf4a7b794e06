"""`sandvisor conformance run|list|claims`: the syscall-conformance harness."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click


@click.group("conformance")
def conformance() -> None:
    """Differential syscall conformance: cases run natively and under a target."""


@conformance.command("run")
@click.option("--target", "targets", multiple=True, metavar="TARGET",
              help='native | sandvisor | sandvisor:PLATFORM | "ANY COMMAND PREFIX" '
                   "(repeatable; default sandvisor).")
@click.option("-k", "pattern", default=None, metavar="PATTERN",
              help="Only cases whose name contains PATTERN or matches a glob; "
                   "comma-separated alternatives; a family name selects the family.")
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False),
              help="Write a report: FILE.md, FILE.json or FILE.xml (JUnit); repeatable.")
@click.option("-j", "--jobs", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--timeout", default=30.0, show_default=True, type=float,
              help="Seconds before a case counts as hung.")
@click.option("--strict", is_flag=True,
              help="Fail on every difference, including the documented known ones.")
@click.option("-v", "--verbose", is_flag=True, help="Print every failing case's diff.")
@click.option("--note", "notes", multiple=True, metavar="TEXT",
              help="A line for the Markdown report's header (repeatable).")
def run_cmd(targets: tuple[str, ...], pattern: str | None, reports: tuple[str, ...], jobs: int,
            timeout: float, strict: bool, verbose: bool, notes: tuple[str, ...]) -> None:
    """Run the cases natively and under each TARGET, compare, report.

    Exit status: 0 when every difference is a documented known difference (or none),
    1 when some case fails unexpectedly (any failure with --strict), 2 on harness errors."""
    from conformance import harness, report
    try:
        tgts = [harness.make_target(t) for t in (targets or ("sandvisor",))]
        cases = harness.discover(pattern, jobs=jobs)
    except harness.HarnessError as exc:
        click.echo(f"sandvisor conformance: {exc}", err=True)
        sys.exit(2)
    if not cases:
        click.echo(f"sandvisor conformance: no case matches {pattern!r}", err=True)
        sys.exit(2)
    for t in tgts:
        if t.unavailable:
            click.echo(f"target {t.label}: every case skipped: {t.unavailable}", err=True)
    click.echo(f"{len(cases)} cases, targets: {', '.join(t.label for t in tgts)}", err=True)
    session = harness.run_cases(cases, tgts, jobs=jobs, timeout=timeout,
                                progress=_progress(len(cases)))
    _summary(session, verbose)
    command = "sandvisor conformance run " + " ".join(
        [*(f"--target {shlex.quote(t)}" for t in targets), *(["-k", pattern] if pattern else []),
         *(f"--report {r}" for r in reports)])
    for path in reports:
        try:
            report.write_report(session, Path(path), command=command.strip(),
                                notes=list(notes))
        except ValueError as exc:
            click.echo(f"sandvisor conformance: {exc}", err=True)
            sys.exit(2)
        click.echo(f"report written: {path}", err=True)
    failed = any((report.totals(session, t)[harness.FAIL] if strict
                  else len(report.unexpected_failures(session, t))) for t in session.targets)
    sys.exit(1 if failed else 0)


def _progress(total: int):
    tty = sys.stderr.isatty()

    def show(done: int, _total: int, case, results) -> None:
        marks = " ".join(f"{r.target.split()[0]}:{r.status}" for r in results)
        line = f"[{done:>4}/{total}] {case.family.name:<9} {case.name:<48} {marks}"
        bad = any(r.status == "fail" for r in results)
        if tty and not bad:
            click.echo("\r" + line[:150].ljust(150), nl=False, err=True)
        else:
            click.echo(("\r" if tty else "") + line, err=True)
    return show


def _summary(session, verbose: bool) -> None:
    from conformance import report
    click.echo("", err=True)
    for target in session.targets:
        tot = report.totals(session, target)
        click.echo(f"{target}: {tot['pass']} passed, {tot['fail']} failed, "
                   f"{tot['skip']} skipped", err=True)
        for res, reason in report.differences(session, target):
            click.echo(f"  FAIL {res.case.name}: {reason or 'UNEXPECTED: ' + res.reason}")
            if verbose or not reason:
                click.echo("    " + res.diff.replace("\n", "\n    ").rstrip())
    click.echo(f"{session.seconds:.1f}s", err=True)


@conformance.command("report")
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "reports", multiple=True, required=True,
              type=click.Path(dir_okay=False), help="FILE.md, FILE.json or FILE.xml.")
@click.option("--note", "notes", multiple=True, metavar="TEXT")
def report_cmd(results: str, reports: tuple[str, ...], notes: tuple[str, ...]) -> None:
    """Re-render a saved JSON report (from `run --report X.json`) in other formats."""
    from conformance import report
    session = report.session_from_json(Path(results).read_text())
    for path in reports:
        report.write_report(session, Path(path), notes=list(notes),
                            command=f"sandvisor conformance report {results}")
        click.echo(f"report written: {path}", err=True)


@conformance.command("list")
@click.option("-k", "pattern", default=None, metavar="PATTERN")
def list_cmd(pattern: str | None) -> None:
    """List the cases (family, name, syscalls exercised)."""
    from conformance import harness
    for case in harness.discover(pattern):
        click.echo(f"{case.family.name:<9} {case.name:<52} {' '.join(case.syscalls)}")


@conformance.command("claims")
@click.option("--results", type=click.Path(exists=True, dir_okay=False), required=True,
              help="A JSON report from `conformance run --target sandvisor --report X.json`.")
@click.option("--target", default="sandvisor", show_default=True)
def claims_cmd(results: str, target: str) -> None:
    """Join the syscall table with a run's results; exit 1 if an entry claims FULL
    support with no passing case under TARGET."""
    import json

    from syscalls.table import TABLE
    data = json.loads(Path(results).read_text())
    passing = {r["case"] for r in data["results"].get(target, []) if r["status"] == "pass"}
    by_name: dict[str, list[str]] = {}
    for case in data["cases"]:
        for name in case["syscalls"]:
            by_name.setdefault(name, []).append(case["name"])
    bad = []
    click.echo(f"{'NAME':<24} {'SUPPORT':<13} {'CASES':>5} {'PASS':>5}")
    for entry in TABLE.values():
        cases = by_name.get(entry.name, [])
        ok = sum(c in passing for c in cases)
        if cases or entry.support.value == "full":
            click.echo(f"{entry.name:<24} {entry.support.value:<13} {len(cases):>5} {ok:>5}")
        if entry.support.value == "full" and ok == 0:
            bad.append(entry.name)
    if bad:
        click.echo(f"FULL claimed without a passing case under {target}: {', '.join(bad)}",
                   err=True)
        sys.exit(1)
