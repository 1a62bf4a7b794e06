"""sandvisor's own processes locking themselves down once started.

The gofer, after building the view and before serving: its capabilities cut to
gofer.allowlist.CAPABILITIES (bounding, effective, permitted; inheritable and ambient
emptied), no_new_privs, and the gofer.allowlist seccomp filter. While the sandbox's
cgroups are still to be mounted inside (ShowCgroups) it runs one step looser
(MOUNTING: mount, move_mount, CAP_SYS_ADMIN), then drops those and stacks the plain
filter on top.

The sentry, once init and the application's trap are attached and before its event
loop: no_new_privs and the sentry.allowlist filter, synchronised to all its threads
(the ptrace platform's tracer thread).

Both filters kill the process on any other syscall (SECCOMP_RET_KILL_PROCESS). They
are compiled in the sentry (libseccomp, cached on disk like the application's filter):
after pivot_root the gofer sees neither libseccomp nor the cache.
"""

from __future__ import annotations

import os
import traceback

from sentry import ffi
from sentry.platform.bpf import SECCOMP_RET_KILL_PROCESS, compile_allowlist

DEFAULT_ACTION = SECCOMP_RET_KILL_PROCESS  # what any syscall not allowed gets


def install(prog: bytes, all_threads: bool = False) -> None:
    ffi.prctl(ffi.PR_SET_NO_NEW_PRIVS, 1)
    ffi.seccomp_load_filter(prog, ffi.SECCOMP_FILTER_FLAG_TSYNC if all_threads else 0)


def keep_capabilities(names, clear_ambient: bool = True) -> None:
    """Keep only `names` (those of them held) in every capability set but inheritable."""
    _eff, permitted, _inh = ffi.capget()
    keep = ffi.cap_mask(names) & permitted
    ffi.drop_bounding_except(keep)
    if clear_ambient:
        try:
            ffi.prctl(ffi.PR_CAP_AMBIENT, ffi.PR_CAP_AMBIENT_CLEAR_ALL)
        except OSError:
            pass  # a kernel without ambient capabilities has none to clear
    ffi.capset(keep, keep, 0)


# --- the gofer ----------------------------------------------------------------------
class GoferLockdown:
    """Built in the sentry before the gofer is forked; run in the gofer."""

    def __init__(self):
        from gofer import allowlist
        self.allowlist = allowlist
        self.serving = compile_allowlist(allowlist.GOFER, DEFAULT_ACTION)
        self.mounting = compile_allowlist(allowlist.MOUNTING, DEFAULT_ACTION)

    def __call__(self, gofer) -> None:
        """Lock `gofer`'s process down before it serves; if it has cgroup mounts still
        to do, only as far as MOUNTING until it has done them."""
        if gofer.cgroup_fds:
            keep_capabilities(self.allowlist.MOUNTING_CAPABILITIES)
            install(self.mounting)
            gofer.after_mounts = self._finish
        else:
            keep_capabilities(self.allowlist.CAPABILITIES)
            install(self.serving)

    def _finish(self) -> None:
        try:
            keep_capabilities(self.allowlist.CAPABILITIES, clear_ambient=False)
            install(self.serving)
        except BaseException:  # noqa: BLE001 - never serve on half locked down
            traceback.print_exc()
            os._exit(1)


# --- the sentry ---------------------------------------------------------------------
def sentry_program(platform: str, extras: dict | None = None) -> bytes:
    from sentry.allowlist import sentry_rules
    rules = sentry_rules(platform)
    rules.update(extras or {})
    return compile_allowlist(rules, DEFAULT_ACTION)


def lock_down_sentry(platform: str, extras: dict | None = None) -> None:
    install(sentry_program(platform, extras), all_threads=True)
