"""`sandvisor list [--format table|json] [-q]`"""

import json

import click

from sentry.cli.oci_common import globals_of
from sentry.oci import runtime


@click.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("-q", "--quiet", is_flag=True, help="Only the ids.")
@click.pass_context
def list_(ctx, fmt, quiet):
    """List the containers under --root."""
    states = runtime.list_states(globals_of(ctx).store())
    if quiet:
        for st in states:
            click.echo(st.id)
    elif fmt == "json":
        click.echo(json.dumps([st.oci() for st in states]))
    else:
        click.echo(f"{'ID':<20}{'PID':<10}{'STATUS':<10}{'BUNDLE':<40}{'CREATED':<32}OWNER")
        for st in states:
            o = st.oci()
            click.echo(f"{o['id']:<20}{o['pid']:<10}{o['status']:<10}{o['bundle']:<40}"
                       f"{o['created']:<32}{o['owner'] or 'root'}")
