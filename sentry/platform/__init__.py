"""Platforms: how the application's syscalls reach the sentry.

One interface, several backends, the default picked by probing (the shape of
CPython's `selectors`). Each backend installs its part in the application child
(`child_install`), connects to it in the sentry (`attach`) and runs the event loop
(`serve`), handing each trapped syscall to Kernel.dispatch(task, nr, args) and
answering with what it returns (sentry.events).
"""

from __future__ import annotations

import abc
import platform as platform_module
import select
from typing import NamedTuple


def kernel_version() -> tuple[int, int]:
    """(major, minor) of the running kernel; (0, 0) if it cannot be told."""
    parts = platform_module.release().split(".")
    try:
        return int(parts[0]), int(parts[1].split("-")[0])
    except (IndexError, ValueError):
        return (0, 0)


class PlatformUnavailable(Exception):
    """The chosen platform cannot run on this host; the message says why."""


class Probe(NamedTuple):
    """Whether a platform can run here, and why not."""
    name: str
    usable: bool
    reason: str


class Platform(abc.ABC):
    name: str = ""
    trap: str = "notify"   # the seccomp action for trapped syscalls: "notify" or "trace"

    @classmethod
    @abc.abstractmethod
    def probe(cls) -> Probe:
        """Whether this platform works here, and why not."""

    @abc.abstractmethod
    def child_install(self, sock, bpf: bytes) -> None:
        """In the application child, just before exec: install the trap."""

    @abc.abstractmethod
    def attach(self, sock, app_pidfd: int, timeout: float) -> None:
        """In the sentry: connect to the child's trap."""

    poller = None  # the select.poll of a running serve()

    @staticmethod
    def wait_for_child(sock, app_pidfd: int, timeout: float, what: str) -> None:
        """Until the application child writes on `sock`; it dying first is an error."""
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(app_pidfd, select.POLLIN)
        for fd, _ in poller.poll(timeout * 1000):
            if fd == sock.fileno():
                return
        raise PlatformUnavailable(f"the sandbox's init exited before {what}")

    def watch(self, fd: int) -> None:
        """Add a descriptor to a running serve()'s poll set (reported via loop.ready)."""
        self.poller.register(fd, select.POLLIN)

    @abc.abstractmethod
    def serve(self, kernel, loop) -> None:
        """Answer syscalls until `loop.stopping()`; `loop` also gets the fds to watch."""


# name -> (module, class); "auto" picks the first usable one, in this order. Loaded
# only when asked for: the ptrace platform's imports (python-ptrace) cost start-up time
_PLATFORMS = {"unotify": ("sentry.platform.unotify", "UnotifyPlatform"),
              "ptrace": ("sentry.platform.ptrace", "PtracePlatform")}


def _load(name: str) -> type[Platform]:
    import importlib
    module, cls = _PLATFORMS[name]
    return getattr(importlib.import_module(module), cls)


def _registry() -> dict[str, type[Platform]]:
    return {name: _load(name) for name in _PLATFORMS}


def probe_all() -> list[Probe]:
    return [cls.probe() for cls in _registry().values()]


def choose(name: str = "auto") -> Platform:
    """The platform called `name`, or the first usable one for "auto"; never a silent
    fallback from an explicit choice."""
    if name == "auto":
        for candidate in _PLATFORMS:
            cls = _load(candidate)
            if cls.probe().usable:
                return cls()
        reasons = "; ".join(f"{p.name}: {p.reason}" for p in probe_all())
        raise PlatformUnavailable(f"no usable platform on this host ({reasons})")
    if name not in _PLATFORMS:
        raise PlatformUnavailable(f"unknown platform {name!r}; choose from "
                                  f"{', '.join(_PLATFORMS)} (see `sandvisor help platforms`)")
    cls = _load(name)
    probe = cls.probe()
    if not probe.usable:
        raise PlatformUnavailable(f"platform {name} is not usable here: {probe.reason}")
    return cls()
