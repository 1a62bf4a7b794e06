"""What every OCI subcommand shares: the global flags, and errors worded as runc's
(one line on stderr; a JSON line in --log with --log-format json)."""

from __future__ import annotations

import sys
import time
from typing import NamedTuple

import click

EXIT_ERROR = 1


class Globals(NamedTuple):
    """The runtime's global flags (before the subcommand), as runc takes them."""
    root: str | None = None
    log: str | None = None
    log_format: str = "text"
    debug: bool = False
    platform: str = "auto"

    def store(self):
        from sentry.oci.state import Store  # not on `do`'s start-up path
        return Store(self.root)


def globals_of(ctx: click.Context) -> Globals:
    return ctx.find_root().obj or Globals()


def fail(ctx: click.Context, message: str) -> None:
    g = globals_of(ctx)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if g.log:
        try:
            with open(g.log, "a") as f:
                if g.log_format == "json":
                    import json  # `do` imports this module too: not at its start-up
                    f.write(json.dumps({"level": "error", "msg": message, "time": stamp}) + "\n")
                else:
                    f.write(f'time="{stamp}" level=error msg="{message}"\n')
        except OSError:
            pass
    click.echo(f'time="{stamp}" level=error msg="{message}"', err=True)
    sys.exit(EXIT_ERROR)
