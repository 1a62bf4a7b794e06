"""`sandvisor pause ID` and `sandvisor resume ID`"""

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.argument("container_id")
@click.pass_context
def pause(ctx, container_id):
    """Stop every process of the container."""
    try:
        runtime.pause(globals_of(ctx).store(), container_id)
    except runtime.OciError as exc:
        fail(ctx, str(exc))


@click.command()
@click.argument("container_id")
@click.pass_context
def resume(ctx, container_id):
    """Continue a paused container."""
    try:
        runtime.pause(globals_of(ctx).store(), container_id, resume=True)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
