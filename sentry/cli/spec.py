"""`sandvisor spec [--bundle DIR]`: write a starting config.json."""

import json
import os

import click

from sentry.cli.oci_common import fail
from sentry.oci import runtime


@click.command()
@click.option("-b", "--bundle", default=".", show_default=True)
@click.pass_context
def spec(ctx, bundle):
    """Write a default config.json into the bundle directory."""
    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        fail(ctx, "File config.json exists. Remove it first")
    with open(path, "w") as f:
        json.dump(runtime.default_spec(), f, indent=2)
