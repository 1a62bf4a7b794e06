"""`sandvisor delete [--force] ID`"""

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.option("-f", "--force", is_flag=True, help="Kill a running container first.")
@click.argument("container_id")
@click.pass_context
def delete(ctx, force, container_id):
    """Delete a stopped container (or any, with --force)."""
    try:
        runtime.delete(globals_of(ctx).store(), container_id, force)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
