"""`sandvisor install`: register sandvisor as an OCI runtime with podman, and print
the containerd and Kubernetes configuration that use it."""

from __future__ import annotations

import os
import shutil
import sys

import click

PODMAN_DROPIN_DIR = "/etc/containers/containers.conf.d"

CONTAINERD_SNIPPET = """\
# /etc/containerd/config.toml (CRI): a runtime handler named "sandvisor"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandvisor]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandvisor.options]
    BinaryName = "{binary}"
    Root = "/run/containerd/sandvisor"
# without CRI:  ctr run --runc-binary {binary} IMAGE ID CMD...
"""

RUNTIMECLASS = """\
# Kubernetes: pods with runtimeClassName: sandvisor run under sandvisor
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: sandvisor
handler: sandvisor
"""


def binary_path() -> str:
    """The absolute path of this `sandvisor` (podman scrubs PATH: no shims)."""
    here = os.path.join(os.path.dirname(sys.executable), "sandvisor")
    return here if os.path.exists(here) else (shutil.which("sandvisor") or here)


def podman_dropin(binary: str) -> str:
    return (f'[engine]\nruntime_supports_json = ["crun", "runc", "sandvisor"]\n\n'
            f'[engine.runtimes]\nsandvisor = ["{binary}"]\n')


@click.command()
@click.option("--podman-dir", default=PODMAN_DROPIN_DIR, show_default=True,
              help="Where podman reads containers.conf drop-ins.")
@click.option("--print-only", is_flag=True, help="Print the configuration, write nothing.")
def install(podman_dir: str, print_only: bool) -> None:
    """Register sandvisor with podman (`podman --runtime sandvisor`); print the containerd
    and Kubernetes RuntimeClass configuration."""
    binary = binary_path()
    dropin = podman_dropin(binary)
    if print_only:
        click.echo(f"# {os.path.join(podman_dir, '50-sandvisor.conf')}\n{dropin}")
    else:
        os.makedirs(podman_dir, exist_ok=True)
        target = os.path.join(podman_dir, "50-sandvisor.conf")
        with open(target + ".tmp", "w") as f:
            f.write(dropin)
        os.rename(target + ".tmp", target)
        click.echo(f"podman: wrote {target}; use `podman --runtime sandvisor run ...`")
    click.echo(CONTAINERD_SNIPPET.format(binary=binary))
    click.echo(RUNTIMECLASS)
