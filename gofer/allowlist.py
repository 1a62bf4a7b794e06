"""The gofer's own seccomp allowlist and capabilities, as data (gVisor's
runsc/fsgofer/filter).

The gofer installs it after it has built the view and before it serves its first
message (sentry/runner.py, through sentry/lockdown.py). Anything not named here kills
the gofer (SECCOMP_RET_KILL_PROCESS); the sentry then reports "the gofer exited
unexpectedly (killed by SIGSYS: a syscall outside the gofer's allowlist)".

Format as in sentry/allowlist.py: `name: None` for any arguments, or a tuple of
alternatives of argument conditions.

Of note, absent: mount (but see MOUNTING), execve, fork and clone, socket and
connect (it only answers on the channel it was given), ptrace, process_vm_*, kill,
unshare, setns, pivot_root, bpf, io_uring, open_by_handle_at, setuid/setgid.
"""

from __future__ import annotations

from sentry import ffi
from sentry.allowlist import FILE_SERVING, PYTHON, one_of

GOFER: dict[str, tuple | None] = {
    **PYTHON,
    # every request the protocol has (gofer/server.py's handlers)
    **FILE_SERVING,
    # the channel to the sentry: a request in, an answer out (with a descriptor: sendmsg)
    "recvmsg": None, "sendmsg": None, "sendto": None,
}

# Until the sandbox's cgroups are shown inside (ShowCgroups, served once, after init has
# mounted /sys), the gofer still mounts: a tmpfs on /sys/fs/cgroup, the cgroup trees it
# carried across pivot_root (move_mount), read-only remounts. Then it drops
# CAP_SYS_ADMIN and stacks the plain GOFER filter on this one.
MOUNTING: dict[str, tuple | None] = {
    **GOFER,
    "mount": None, "move_mount": None,
    # the second step of the lock-down itself
    "capget": None, "capset": None,
    "prctl": one_of(0, ffi.PR_CAPBSET_DROP, ffi.PR_CAPBSET_READ, ffi.PR_SET_NO_NEW_PRIVS),
    "seccomp": one_of(0, ffi.SECCOMP_SET_MODE_FILTER),
}

# What serving needs, for a root application with Docker's default capabilities:
# setfsuid/setfsgid/setgroups to take on the caller's ids; acting as root for root
# (permission checks, ownership, set-id bits kept or cleared as Linux does).
# CAP_SYS_PTRACE for readlink of the application's /proc/PID links (root, cwd, exe,
# fd/N): procfs checks ptrace access, which fails when the application holds
# capabilities the gofer does not (ptrace itself and process_vm_* are not allowed).
# Not CAP_MKNOD: device nodes are refused (gofer/server.py's mknod).
CAPABILITIES = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
                "CAP_FSETID", "CAP_SETUID", "CAP_SETGID", "CAP_SYS_PTRACE")
# only while MOUNTING
MOUNTING_CAPABILITIES = CAPABILITIES + ("CAP_SYS_ADMIN", "CAP_SETPCAP")
