"""`sandvisor start ID`"""

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.argument("container_id")
@click.pass_context
def start(ctx, container_id):
    """Start a created container's process."""
    try:
        runtime.start(globals_of(ctx).store(), container_id)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
