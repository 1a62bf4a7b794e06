"""Rootless operation: the sentry enters a user namespace of its own.

An unprivileged caller cannot create mount, pid or network namespaces in the host's
user namespace; in a user namespace it creates itself it holds every capability, over
objects that namespace owns. So a rootless sentry first unshares a user namespace and
maps exactly one id, its own (as bwrap and `unshare -r` do): the sandbox's uid (the
caller's by default, or --user's) is the caller's uid on the host, and nothing inside
can act as any other host user. The gofer, init and the application inherit it; the
sentry keeps ptrace-level access to them (same user, capabilities in their namespace).

What a single mapping cannot give, and says so: other uids inside (setuid to them
fails with EINVAL, as under `unshare -r`), supplementary groups (setgroups is denied
in such a namespace), cgroup limits (the host's cgroups are not delegated to the user:
memory and pids limits fall back to rlimits, see sentry.runner).
"""

from __future__ import annotations

import errno
import os
import threading

from sentry import ffi


class RootlessError(Exception):
    """The host forbids what rootless mode needs; the message says what to change."""


def needed() -> bool:
    return os.geteuid() != 0


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter(inside_uid: int | None, inside_gid: int | None) -> tuple[int, int]:
    """Unshare a user namespace mapping `inside_uid`/`inside_gid` (default: the
    caller's own ids) to the caller's; returns the ids used inside."""
    if threading.active_count() != 1:
        raise RootlessError("internal error: the user namespace must be entered before "
                            "any thread starts")
    outside_uid, outside_gid = os.geteuid(), os.getegid()
    uid = outside_uid if inside_uid is None else inside_uid
    gid = (outside_gid if inside_uid is None else inside_uid) if inside_gid is None \
        else inside_gid
    try:
        ffi.unshare(ffi.CLONE_NEWUSER)
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise RootlessError(
                "this host forbids unprivileged user namespaces, which sandvisor needs when "
                "not run as root (check sysctl user.max_user_namespaces, "
                "kernel.unprivileged_userns_clone or an AppArmor/SELinux policy); "
                "run it as root instead") from None
        if exc.errno == errno.ENOSPC:
            raise RootlessError("the user namespace limit is reached "
                                "(sysctl user.max_user_namespaces)") from None
        raise RootlessError(f"cannot create a user namespace: {exc.strerror}") from None
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {outside_uid} 1\n")
        _write("/proc/self/gid_map", f"{gid} {outside_gid} 1\n")
    except OSError as exc:
        raise RootlessError(f"cannot map ids in the new user namespace: {exc.strerror}") \
            from None
    return uid, gid
