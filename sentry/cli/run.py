"""`sandvisor run --bundle DIR ID`: create, start, wait, delete."""

import sys

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command()
@click.option("-b", "--bundle", default=".", show_default=True)
@click.option("--pid-file", default=None)
@click.option("--console-socket", default=None)
@click.option("-d", "--detach", is_flag=True, help="Return after start.")
@click.argument("container_id")
@click.pass_context
def run(ctx, bundle, pid_file, console_socket, detach, container_id):
    """Create and start a container; its exit status is ours."""
    g = globals_of(ctx)
    store = g.store()
    try:
        st = runtime.create(store, container_id, bundle, pid_file, console_socket, g.platform,
                            g.log if g.debug else None)
        runtime.start(store, container_id)
    except runtime.OciError as exc:
        fail(ctx, str(exc))
    if detach:
        return
    code = runtime.wait_daemon(st.pid)
    try:
        runtime.delete(store, container_id, True)
    except runtime.OciError:
        pass
    sys.exit(code)
