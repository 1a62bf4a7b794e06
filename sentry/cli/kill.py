"""`sandvisor kill [--all] ID [SIGNAL]`"""

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Signal every process of the container.")
@click.option("-s", "--signal", "signal_opt", default=None, help="The signal (name or number).")
@click.argument("container_id")
@click.argument("signal", required=False)
@click.pass_context
def kill(ctx, all_, signal_opt, container_id, signal):
    """Send a signal (default TERM) to the container's process."""
    try:
        sig = runtime.parse_signal(signal or signal_opt or "TERM")
        runtime.kill(globals_of(ctx).store(), container_id, sig, all_)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
