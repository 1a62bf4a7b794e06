"""The console socket: how a terminal's master side reaches conmon or the shim."""

from __future__ import annotations

import socket

from sentry import ffi


def send_console(path: str, master: int) -> None:
    """Send `master` over the unix socket at `path`, as runc does (SCM_RIGHTS)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as console:
        console.connect(path)
        console.sendmsg([b"/dev/ptmx"], ffi.rights(master))
