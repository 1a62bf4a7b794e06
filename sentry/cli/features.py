"""`sandvisor features`: what this runtime supports, as JSON."""

import json

import click

from sentry.oci.spec import HOOK_KINDS, SUPPORTED_NAMESPACES


@click.command()
def features():
    """Print the runtime's features (OCI runtime features document)."""
    click.echo(json.dumps({
        "ociVersionMin": "1.0.0", "ociVersionMax": "1.0.2-dev",
        "hooks": list(HOOK_KINDS),
        "mountOptions": ["ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec"],
        "linux": {"namespaces": sorted(SUPPORTED_NAMESPACES),
                  "capabilities": [], "cgroup": {"v1": False, "v2": False},
                  "seccomp": {"enabled": True, "actions": ["SCMP_ACT_ERRNO"]}},
        "annotations": {"org.opencontainers.runc.version": "sandvisor"},
    }, indent=2))
