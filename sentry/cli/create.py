"""`sandvisor create --bundle DIR [--pid-file F] [--console-socket S] ID`"""

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.option("-b", "--bundle", default=".", show_default=True, help="The bundle directory.")
@click.option("--pid-file", default=None, help="Write the container sentry's pid here.")
@click.option("--console-socket", default=None, help="Send the terminal's master here.")
@click.option("--no-pivot", is_flag=True, hidden=True)
@click.option("--no-new-keyring", is_flag=True, hidden=True)
@click.argument("container_id")
@click.pass_context
def create(ctx, bundle, pid_file, console_socket, no_pivot, no_new_keyring, container_id):
    """Create a container from a bundle; its process waits for `start`."""
    g = globals_of(ctx)
    try:
        runtime.create(g.store(), container_id, bundle, pid_file, console_socket, g.platform,
                       g.log if g.debug else None)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
