"""The `sandvisor` command: one module per subcommand, imported only when used (the
sandbox's start-up time is the user's).

Global flags follow runc's conventions (before the subcommand, `--flag value` or
`--flag=value`): podman and containerd's shim pass them to the OCI subcommands.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from sentry.cli.oci_common import Globals
from sentry.startup import start_collecting

# command name -> (module under sentry.cli, attribute)
COMMANDS = {
    "do": ("do", "do"), "help": ("help", "help_group"),
    "conformance": ("conformance", "conformance"), "bench": ("bench", "bench"),
    "create": ("create", "create"), "start": ("start", "start"), "state": ("state", "state"),
    "kill": ("kill", "kill"), "delete": ("delete", "delete"), "run": ("run", "run"),
    "exec": ("exec", "exec_"), "ps": ("ps", "ps"), "list": ("list", "list_"),
    "pause": ("pause", "pause"), "resume": ("pause", "resume"), "spec": ("spec", "spec"),
    "features": ("features", "features"), "install": ("install", "install"),
}
# those whose sandbox starts collecting garbage once it serves (sentry/startup.py)
STARTS_SANDBOX = {"do", "run", "create"}


class LazyGroup(click.Group):
    def list_commands(self, ctx) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        if name not in STARTS_SANDBOX:
            start_collecting()
        return getattr(importlib.import_module(f"sentry.cli.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sandvisor", prog_name="sandvisor")
@click.option("--root", default=None, help="Where container state lives (default /run/sandvisor).")
@click.option("--log", default=None, help="Log file for the OCI commands.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text")
@click.option("--debug", is_flag=True, help="Write the sentry's debug log to --log.")
@click.option("--systemd-cgroup", is_flag=True, help="Accepted for runc compatibility.")
@click.option("--rootless", default=None, help="Accepted for runc compatibility.")
@click.option("--platform", default="auto", help="OCI containers: how syscalls are trapped.")
@click.option("--network", default=None, hidden=True,
              help="Accepted as a runtime flag (podman --runtime-flag); see config.json.")
@click.pass_context
def main(ctx, root, log, log_format, debug, systemd_cgroup, rootless, platform, network) -> None:
    """sandvisor: a user-space kernel sandbox (gVisor-style, in Python)."""
    ctx.obj = Globals(root=root, log=log, log_format=log_format, debug=debug, platform=platform)


def entry(args: list[str] | None = None) -> None:
    """The `sandvisor` script: the CLI, then out without the interpreter's teardown.

    Freeing every imported module's objects at exit took ~12 ms of each run (measured
    2026-12-02), after the sandbox had ended; by then every file a command wrote is
    closed or line-buffered, so only the standard streams need flushing."""
    try:
        main(args, prog_name="sandvisor")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)   # what sys.exit("message") would have done
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1    # e.g. stdout was a closed pipe: as Python reports it
    os._exit(code)
