"""The `sandvisor` command: one module per subcommand, imported only when used (the
sandbox's start-up time is the user's).

Global flags follow runc's conventions (before the subcommand, `--flag value` or
`--flag=value`): podman and containerd's shim pass them to the OCI subcommands.
"""

from __future__ import annotations

import importlib

import click

from sentry.cli.oci_common import Globals

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


class LazyGroup(click.Group):
    def list_commands(self, ctx) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
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
