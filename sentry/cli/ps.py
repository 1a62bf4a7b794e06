"""`sandvisor ps [--format table|json] ID`"""

import json

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.argument("container_id")
@click.argument("ps_args", nargs=-1)
@click.pass_context
def ps(ctx, fmt, container_id, ps_args):
    """List the container's processes (host pids)."""
    try:
        state = runtime._load(globals_of(ctx).store(), container_id)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
    pids = runtime.container_pids(state)
    if fmt == "json":
        click.echo(json.dumps(pids))
        return
    click.echo(f"{'PID':>7} CMD")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        click.echo(f"{pid:>7} {cmd}")
