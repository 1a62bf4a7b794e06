"""Events and answers exchanged between platforms, the kernel layer and handlers.

Platforms turn whatever their mechanism delivers (a seccomp notification, a ptrace stop)
into a call of Kernel.dispatch(task, nr, args); handlers answer with one of the Answer
dataclasses. Nothing here raises: an errno is an answer like any other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Return:
    """Complete the syscall with this return value."""
    value: int = 0


@dataclass(frozen=True, slots=True)
class Error:
    """Complete the syscall with -errno."""
    errno: int


@dataclass(frozen=True, slots=True)
class Continue:
    """Let the host kernel run the syscall as issued (only for syscalls whose
    re-resolution inside the application's own mount namespace is harmless)."""


@dataclass(frozen=True, slots=True)
class InjectFd:
    """Install `fd` (a sentry-owned descriptor) in the caller and return its number."""
    fd: int
    cloexec: bool = False


Answer = Return | Error | Continue | InjectFd
CONTINUE = Continue()
