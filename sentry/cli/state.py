"""`sandvisor state ID`"""

import json

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.argument("container_id")
@click.pass_context
def state(ctx, container_id):
    """Print the container's state as JSON."""
    try:
        click.echo(json.dumps(runtime.state(globals_of(ctx).store(), container_id), indent=2))
    except runtime.OciError as exc:
        fail(ctx, str(exc))
