"""`sandvisor help syscalls|platforms`: generated from the table and the probes."""

from __future__ import annotations

import csv
import io
import json

import click


@click.group("help")
def help_group() -> None:
    """Reference generated from sandvisor's own tables."""


@help_group.command("syscalls")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--disposition", type=click.Choice(["host", "emulate", "deny"]), default=None,
              help="Only entries with this disposition.")
def syscalls_cmd(fmt: str, disposition: str | None) -> None:
    """Every x86_64 syscall: disposition, support level and note."""
    from syscalls.table import TABLE
    rows = [{"nr": e.nr, "name": e.name, "disposition": e.disposition.value,
             "support": e.support.value,
             "errno": _errno_name(e.errno) if e.errno else "", "note": e.note}
            for e in TABLE.values()
            if disposition is None or e.disposition.value == disposition]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["nr"])
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        click.echo(f"{'NR':>4}  {'NAME':<24} {'DISPOSITION':<11} {'SUPPORT':<13} NOTE")
        for r in rows:
            note = r["note"] + (f" ({r['errno']})" if r["errno"] else "")
            click.echo(f"{r['nr']:>4}  {r['name']:<24} {r['disposition']:<11} "
                       f"{r['support']:<13} {note}")


@help_group.command("platforms")
def platforms_cmd() -> None:
    """Which platforms work on this host, and why not."""
    from sentry.platform import probe_all
    for probe in probe_all():
        mark = "usable" if probe.usable else "unusable"
        click.echo(f"{probe.name:<10} {mark:<9} {probe.reason}")


def _errno_name(err: int) -> str:
    import errno
    return errno.errorcode.get(err, str(err))
