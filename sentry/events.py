"""Events and answers exchanged between platforms, the kernel layer and handlers.

Platforms turn whatever their mechanism delivers (a seccomp notification, a ptrace stop)
into a call of Kernel.dispatch(task, nr, args); handlers answer with one of the Answer
values. Nothing here raises: an errno is an answer like any other.

The answers are small value classes written out rather than frozen dataclasses: four
frozen, slotted dataclasses took 1.3-1.8 ms of every sandbox's start-up to create
(measured 2026-12-05), and one answer is built per trapped syscall.
"""

from __future__ import annotations


class _Value:
    """Compared and hashed by type and fields, shown as `Name(field=value, ...)`."""
    __slots__ = ()

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self) -> int:
        return hash((type(self), self._fields()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Return(_Value):
    """Complete the syscall with this return value."""
    __slots__ = ("value",)

    def __init__(self, value: int = 0):
        self.value = value


class Error(_Value):
    """Complete the syscall with -errno."""
    __slots__ = ("errno",)

    def __init__(self, errno: int):
        self.errno = errno


class Continue(_Value):
    """Let the host kernel run the syscall as issued (only for syscalls whose
    re-resolution inside the application's own mount namespace is harmless)."""
    __slots__ = ()


class InjectFd(_Value):
    """Install `fd` (a sentry-owned descriptor) in the caller and return its number."""
    __slots__ = ("fd", "cloexec")

    def __init__(self, fd: int, cloexec: bool = False):
        self.fd = fd
        self.cloexec = cloexec


Answer = Return | Error | Continue | InjectFd
CONTINUE = Continue()
