"""The container's own seccomp profile (config.json linux.seccomp), compiled to BPF.

The application child loads it before the sandbox's filter (sentry.init): the kernel
runs every filter and keeps the strictest action, so a syscall the profile denies is
denied even where the sandbox would have emulated it (ERRNO outranks USER_NOTIF and
TRACE), and the profile can never widen what the sandbox allows. What it cannot
express here is refused: SCMP_ACT_NOTIFY (the sandbox owns the notification) and a
listenerPath. Architectures other than x86_64 are left out: the sandbox's filter kills
i386 and x32 syscalls first anyway.
"""

from __future__ import annotations

import errno

from sentry.config import ConfigError
from sentry.platform.bpf import export

_OPS = {"SCMP_CMP_NE": "NE", "SCMP_CMP_LT": "LT", "SCMP_CMP_LE": "LE", "SCMP_CMP_EQ": "EQ",
        "SCMP_CMP_GE": "GE", "SCMP_CMP_GT": "GT", "SCMP_CMP_MASKED_EQ": "MASKED_EQ"}


def _action(seccomp, name: str, errno_ret: int | None, default_errno: int | None):
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_ERRNO":
        ret = errno_ret if errno_ret is not None else default_errno
        return seccomp.ERRNO(errno.EPERM if ret is None else int(ret))
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return seccomp.KILL
    if name == "SCMP_ACT_KILL_PROCESS":
        return seccomp.KILL_PROCESS
    if name == "SCMP_ACT_TRAP":
        return seccomp.TRAP
    if name == "SCMP_ACT_LOG":
        return seccomp.LOG
    if name == "SCMP_ACT_TRACE":
        ret = errno_ret if errno_ret is not None else default_errno
        return seccomp.TRACE(errno.EPERM if ret is None else int(ret))
    if name == "SCMP_ACT_NOTIFY":
        raise ConfigError("linux.seccomp: SCMP_ACT_NOTIFY is not supported (the sandbox "
                          "itself answers notifications)")
    raise ConfigError(f"linux.seccomp: unknown action {name!r}")


def _args(seccomp, rule: dict) -> list:
    out = []
    for arg in rule.get("args") or []:
        op = _OPS.get(arg.get("op"))
        if op is None:
            raise ConfigError(f"linux.seccomp: unknown operator {arg.get('op')!r}")
        index, value, two = int(arg["index"]), int(arg.get("value", 0)), int(arg.get("valueTwo", 0))
        if not 0 <= index <= 5:
            raise ConfigError(f"linux.seccomp: argument index {index} out of range")
        if op == "MASKED_EQ":  # libseccomp: Arg(index, MASKED_EQ, mask, value)
            out.append(seccomp.Arg(index, seccomp.MASKED_EQ, value, two))
        else:
            out.append(seccomp.Arg(index, getattr(seccomp, op), value))
    return out


def compile_profile(profile: dict) -> bytes:
    """Raw BPF for the profile, to be loaded with seccomp(SECCOMP_SET_MODE_FILTER)."""
    import pyseccomp as seccomp
    if not isinstance(profile, dict):
        raise ConfigError("linux.seccomp: must be an object")
    if profile.get("listenerPath"):
        raise ConfigError("linux.seccomp.listenerPath is not supported (the sandbox itself "
                          "answers notifications)")
    default_errno = profile.get("defaultErrnoRet")
    default_name = profile.get("defaultAction", "SCMP_ACT_ALLOW")
    default = _action(seccomp, default_name, None, default_errno)
    filt = seccomp.SyscallFilter(default)
    for rule in profile.get("syscalls") or []:
        action_name = rule.get("action", "")
        action = _action(seccomp, action_name, rule.get("errnoRet"), default_errno)
        if action_name == default_name and rule.get("errnoRet") is None and not rule.get("args"):
            continue  # libseccomp refuses a rule that repeats the default (as runc skips it)
        args = _args(seccomp, rule)
        for name in rule.get("names") or []:
            try:
                filt.add_rule(action, name, *args)
            except (ValueError, RuntimeError, OSError):
                continue  # a syscall this kernel or libseccomp does not know: as runc does
    prog = export(filt)
    if not prog or len(prog) % 8:
        raise ConfigError("linux.seccomp: the profile did not compile")
    return prog
