"""`sandvisor exec [--process FILE | ID CMD...]`: a new process in a container."""

import json
import sys

import click

from sentry.cli.oci_common import fail, globals_of
from sentry.oci import runtime


@click.command("exec", context_settings={"allow_interspersed_args": False})
@click.option("-p", "--process", "process_file", default=None, help="A process.json file.")
@click.option("-d", "--detach", is_flag=True)
@click.option("--pid-file", default=None)
@click.option("-t", "--tty", is_flag=True)
@click.option("--console-socket", default=None)
@click.option("--cwd", default=None)
@click.option("-e", "--env", multiple=True)
@click.option("-u", "--user", default=None, metavar="UID[:GID]")
@click.argument("container_id")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def exec_(ctx, process_file, detach, pid_file, tty, console_socket, cwd, env, user,
          container_id, command):
    """Run a process inside a running container."""
    store = globals_of(ctx).store()
    try:
        if process_file:
            try:
                with open(process_file) as f:
                    process = json.load(f)
            except (OSError, ValueError) as exc:
                raise runtime.OciError(f"cannot read {process_file}: {exc}") from None
        else:
            if not command:
                raise runtime.OciError("exec needs --process or a command")
            uid, _, gid = (user or "0").partition(":")
            process = {"args": list(command), "cwd": cwd or "/", "terminal": tty,
                       "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               *env],
                       "user": {"uid": int(uid), "gid": int(gid or uid)}}
        if tty:
            process["terminal"] = True
        code = runtime.exec_process(store, container_id, process, detach, pid_file,
                                    console_socket)
    except (runtime.OciError, ValueError) as exc:
        fail(ctx, str(exc))
    sys.exit(code)
