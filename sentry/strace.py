"""--strace: one line per trapped syscall, strace-like.

Prototypes (argument names and C types) come from python-ptrace's tables, by import.
"""

from __future__ import annotations

import errno
import functools
import sys
import time

from sentry.events import Continue, Error, InjectFd, Return
from syscalls.table import NAMES, NUMBERS, TABLE

@functools.cache
def prototypes() -> dict:
    # imported when first needed: python-ptrace's tables cost start-up time otherwise
    from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES
    return SYSCALL_PROTOTYPES


_STRING_TYPES = {"const char *", "char *"}
_SIGNED = {"int", "long", "pid_t", "off_t", "loff_t"}
MAX_STRING = 64


class Strace:
    def __init__(self, path: str | None, max_string: int = MAX_STRING,
                 only: frozenset[str] | None = None):
        self.out = open(path, "a", buffering=1) if path else sys.stderr
        self.max_string = max_string
        self.only = None if only is None else frozenset(NUMBERS[n] for n in only)

    def __call__(self, task, nr: int, args, result, snap) -> None:
        if self.only is not None and nr not in self.only:
            return
        name = NAMES.get(nr, f"syscall_{nr}")
        shown = decode_args(name, args, snap, self.max_string)
        entry = TABLE.get(nr)
        disposition = entry.disposition.value if entry else "unknown"
        self.out.write(f"[{task.ns_tid:>6}] {name}({', '.join(shown)}) = "
                       f"{_result(result)} <{disposition}>\n")


def snapshot(task, nr: int, args) -> dict[int, bytes | None]:
    """The string arguments of the call, read from the caller while it waits for its
    answer (after it, the memory may hold something else): {arg index: bytes or None}."""
    proto = prototypes().get(NAMES.get(nr, ""))
    snap: dict[int, bytes | None] = {}
    if proto:
        for i, ((ctype, _name), value) in enumerate(zip(proto[1], args)):
            if ctype in _STRING_TYPES and value:
                try:
                    snap[i] = task.read_cstring(value, 4096)
                except Exception:  # noqa: BLE001 - an unreadable pointer is shown as such
                    snap[i] = None
    return snap


@functools.cache
def _symbolic() -> tuple[dict, dict]:
    """python-ptrace's formatters (open flags, modes, access modes, clone flags, socket
    types, dirfds, mmap protections) and named constants (fcntl commands, lseek origins,
    socket domains...), by syscall and argument name."""
    from ptrace.syscall.posix_constants import SYSCALL_ARG_DICT
    from ptrace.syscall.syscall_argument import ARGUMENT_CALLBACK
    return ARGUMENT_CALLBACK, SYSCALL_ARG_DICT


def preload() -> None:
    """Import python-ptrace's tables before the sentry locks itself down."""
    prototypes()
    _symbolic()


class _Value:
    """What python-ptrace's formatters read from an argument."""
    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value


def decode_args(name: str, args, snap: dict, max_string: int = MAX_STRING) -> list[str]:
    """The arguments as strace shows them: strings from the snapshot, flags and
    constants by name, other ints signed."""
    proto = prototypes().get(name)
    if not proto:
        return [hex(a) for a in args[:3]]
    return [_arg(name, argname, snap.get(i), ctype, value, max_string)
            for i, ((ctype, argname), value) in enumerate(zip(proto[1], args))]


def _arg(name: str, argname: str, text: bytes | None, ctype: str, value: int,
         max_string: int) -> str:
    if ctype in _STRING_TYPES and value:
        if text is None:
            return hex(value)
        cut = text[:max_string]
        return repr(cut.decode(errors="backslashreplace")) + ("..." if len(text) > len(cut) else "")
    if ctype in _SIGNED:
        bits = 32 if ctype == "int" else 64
        value &= (1 << bits) - 1
        if value >> (bits - 1):
            value -= 1 << bits
    callbacks, constants = _symbolic()
    callback = callbacks.get(name, {}).get(argname)
    if callback is not None:
        try:
            shown = str(callback(_Value(value)))
        except Exception:  # noqa: BLE001 - a value it cannot format is shown as a number
            shown = ""
        if shown:  # (an open mode without O_CREAT formats as "")
            return shown
    named = constants.get(name, {}).get(argname)
    if named and value in named:
        return named[value]
    if ctype in _SIGNED:
        return "AT_FDCWD" if value == -100 else str(value)
    if "*" in ctype:
        return hex(value) if value else "NULL"
    return hex(value) if value > 0xFFFF else str(value)


class Audit:
    """--audit-log: one JSON line per trapped syscall, then a summary at exit."""

    def __init__(self, path: str):
        import json  # only with an audit log: not every start-up's cost
        self._dumps = json.dumps
        self.out = open(path, "a", buffering=1 << 16)
        self.counts: dict[tuple[str, str], int] = {}
        self.errors = 0

    def __call__(self, task, nr: int, args, result, snap) -> None:
        name = NAMES.get(nr, f"syscall_{nr}")
        entry = TABLE.get(nr)
        disposition = entry.disposition.value if entry else "unknown"
        outcome = _result(result)
        key = (name, disposition)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.errors += isinstance(result, Error)
        self.out.write(self._dumps({"time": round(time.time(), 6), "pid": task.ns_tid,
                                   "syscall": name, "args": decode_args(name, args, snap),
                                   "disposition": disposition, "result": outcome}) + "\n")

    def close(self, outcome=None) -> None:
        summary = {"summary": {"syscalls": sum(self.counts.values()), "errors": self.errors,
                               "by_syscall": {f"{n}/{d}": c for (n, d), c in sorted(self.counts.items())},
                               "exit": outcome.as_json() if outcome is not None else None}}
        self.out.write(self._dumps(summary) + "\n")
        self.out.close()


def _result(result) -> str:
    if isinstance(result, Error):
        name = errno.errorcode.get(result.errno, str(result.errno))
        return f"-1 {name} ({_strerror(result.errno)})"
    if isinstance(result, Return):
        return str(result.value)
    if isinstance(result, InjectFd):
        return "fd"
    if isinstance(result, Continue):
        return "(host)"
    return str(result)


def _strerror(err: int) -> str:
    import os
    return os.strerror(err)
