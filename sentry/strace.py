"""--strace: one line per trapped syscall, strace-like.

Prototypes (argument names and C types) come from python-ptrace's tables, by import.
"""

from __future__ import annotations

import errno
import sys

from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

from sentry.events import Continue, Error, InjectFd, Return
from syscalls.table import NAMES, TABLE

_STRING_TYPES = {"const char *", "char *"}
_SIGNED = {"int", "long", "pid_t", "off_t", "loff_t"}
MAX_STRING = 64


class Strace:
    def __init__(self, path: str | None, max_string: int = MAX_STRING):
        self.out = open(path, "a", buffering=1) if path else sys.stderr
        self.max_string = max_string

    def __call__(self, task, nr: int, args, result) -> None:
        name = NAMES.get(nr, f"syscall_{nr}")
        proto = SYSCALL_PROTOTYPES.get(name)
        shown = []
        if proto:
            for (ctype, _argname), value in zip(proto[1], args):
                shown.append(self._arg(task, ctype, value))
        else:
            shown = [hex(a) for a in args[:3]]
        entry = TABLE.get(nr)
        disposition = entry.disposition.value if entry else "unknown"
        self.out.write(f"[{task.ns_tid:>6}] {name}({', '.join(shown)}) = "
                       f"{_result(result)} <{disposition}>\n")

    def _arg(self, task, ctype: str, value: int) -> str:
        if ctype in _STRING_TYPES and value:
            try:
                text = task.read_cstring(value, 4096)
            except Exception:  # noqa: BLE001 - an unreadable pointer is shown as such
                return hex(value)
            cut = text[: self.max_string]
            return repr(cut.decode(errors="backslashreplace")) + ("..." if len(text) > len(cut) else "")
        if ctype in _SIGNED:
            value &= 0xFFFFFFFF if ctype == "int" else (1 << 64) - 1
            bits = 32 if ctype == "int" else 64
            if value >> (bits - 1):
                value -= 1 << bits
            return "AT_FDCWD" if value == -100 else str(value)
        if "*" in ctype:
            return hex(value) if value else "NULL"
        return hex(value) if value > 0xFFFF else str(value)


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
