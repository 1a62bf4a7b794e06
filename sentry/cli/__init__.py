"""The `sandvisor` command: one module per subcommand."""

from __future__ import annotations

import click

from sentry.cli import do, help as help_


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sandvisor", prog_name="sandvisor")
def main() -> None:
    """sandvisor: a user-space kernel sandbox (gVisor-style, in Python)."""


main.add_command(do.do)
main.add_command(help_.help_group)
