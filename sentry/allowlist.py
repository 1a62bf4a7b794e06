"""The sentry's own seccomp allowlist, as data (gVisor's runsc/boot/filter).

The Supervisor installs it (sentry/lockdown.py) once the sandbox has started: the
gofer and init are forked, the application's trap is attached, and from then on the
sentry only serves. Anything not named here kills the sentry (SECCOMP_RET_KILL_PROCESS);
init and the gofer die with it (PR_SET_PDEATHSIG), so the sandbox ends.

Each entry is `name: None` (any arguments) or `name: (alternative, ...)`, an
alternative being a tuple of argument conditions `(index, "eq"|"masked_eq", value[,
mask])` that must all hold. `PYTHON` is what the interpreter itself needs in any of
our processes (the gofer's list starts from it too).

Of note, absent: execve/execveat, fork and clone (no new process or thread once
serving; the OCI sentry's `exec` is forked by a helper started before the lockdown,
sentry/oci/spawner.py), mount and the new mount API, pivot_root, unshare, setns,
ptrace (except on the ptrace platform), bpf, perf_event_open, io_uring, userfaultfd,
keyctl, kexec and modules, socket (no new sockets but the OCI sentry's unix socket to
its console socket), setuid/setgid and capset, seccomp, prctl.
"""

from __future__ import annotations

import socket

from sentry import ffi


def one_of(index: int, *values: int) -> tuple:
    """Alternatives: argument `index` equals one of `values`."""
    return tuple(((index, "eq", value),) for value in values)


_TCGETS = 0x5401            # isatty(), asked by Python's open() (line buffering)
_TIOCGWINSZ = 0x5413        # a terminal's size
_FIONBIO = 0x5421           # socket.setblocking(), settimeout()
_FIOCLEX = 0x5451           # os.set_inheritable(fd, False) on some paths

PYTHON: dict[str, tuple | None] = {
    # memory: the allocator, ctypes buffers, loading .so files on a lazy import
    "brk": None, "mmap": None, "munmap": None, "mremap": None, "mprotect": None,
    "madvise": None,
    # locks and the GIL
    "futex": None, "sched_yield": None,
    # signal handling and masks (pthread_sigmask in the runner), signal return
    "rt_sigaction": None, "rt_sigprocmask": None, "rt_sigreturn": None,
    "sigaltstack": None,
    # a wait with a timeout resumed after SIGSTOP/SIGCONT (Ctrl-Z and fg, a debugger)
    "restart_syscall": None,
    # time (the vDSO answers most; these are its fallbacks) and sleeping
    "clock_gettime": None, "clock_getres": None, "gettimeofday": None,
    "clock_nanosleep": None, "nanosleep": None,
    # identity of the process itself
    "getpid": None, "gettid": None, "getppid": None, "getuid": None, "geteuid": None,
    "getgid": None, "getegid": None,
    # hash seeds, tempfile names
    "getrandom": None,
    # descriptors already held; reading source files on a lazy import or a traceback
    "read": None, "write": None, "pread64": None, "pwrite64": None, "readv": None,
    "writev": None, "lseek": None, "close": None, "dup": None, "dup3": None,
    "fcntl": None, "fstat": None, "newfstatat": None, "statx": None, "openat": None,
    "getdents64": None, "readlink": None, "getcwd": None,
    # isatty() and a terminal's size only: no other ioctl
    "ioctl": one_of(1, _TCGETS),
    # the end
    "exit": None, "exit_group": None,
}

# File operations done for the application under its credentials: by the gofer, or by
# the sentry itself with --file-access direct (gofer.server.Gofer.dispatch).
FILE_SERVING: dict[str, tuple | None] = {
    # one name at a time beneath the root descriptor
    "openat2": None, "readlinkat": None, "faccessat2": None,
    # changing the tree
    "mkdirat": None, "mknodat": None, "symlinkat": None, "linkat": None, "unlinkat": None,
    "renameat2": None, "renameat": None,  # glibc's renameat2() without flags
    "ftruncate": None,
    # attributes: O_PATH descriptors are named by their /proc/self/fd link (chmod, *xattr)
    "chmod": None, "fchmodat": None, "fchownat": None, "utimensat": None,
    "getxattr": None, "listxattr": None, "setxattr": None, "removexattr": None,
    # taking on the caller's filesystem credentials, and the capabilities a root caller
    # dropped (capset only lowers the effective set within the permitted one)
    "setgroups": None, "setfsuid": None, "setfsgid": None, "capget": None, "capset": None,
}

SENTRY: dict[str, tuple | None] = {
    **PYTHON,
    **FILE_SERVING,
    # keeping the gofer on the sentry's CPU (gofer/client.py), and an application
    # thread while ADDFD installs a descriptor in it (unotify: native.c, sv_addfd);
    # getcpu where glibc cannot read the CPU from rseq or the vDSO
    "sched_getaffinity": None, "sched_setaffinity": None, "getcpu": None,
    # the event loop: init's and the gofer's pidfds, the signalfd, listeners
    "poll": None, "ppoll": None,
    # the gofer channel and OCI control connections (requests, descriptors with them)
    "recvmsg": None, "sendmsg": None, "sendto": None, "recvfrom": None,
    # what Python asks of a socket it wraps (socket.socket(fileno=...))
    "getsockname": None, "getpeername": None, "getsockopt": None,
    # the application's processes: signals, reaping, descriptors, memory
    "kill": None, "tgkill": None, "wait4": None, "waitid": None, "pidfd_open": None,
    "pidfd_send_signal": None, "pidfd_getfd": None, "process_vm_readv": None,
    "process_vm_writev": None,
    # emulated calls that take a path: statfs, inotify watches resolved by the VFS
    "fstatfs": None, "statfs": None, "inotify_add_watch": None,
    # logs (--strace-log, --debug-log, --audit-log, --result-json), the cgroup's removal
    "fsync": None, "rename": None, "unlink": None, "rmdir": None, "umask": None,
    # a terminal; the seccomp listener (unotify): receive, answer, check, inject a descriptor
    "ioctl": one_of(1, _TCGETS, _TIOCGWINSZ, _FIOCLEX, ffi.SECCOMP_IOCTL_NOTIF_RECV,
                    ffi.SECCOMP_IOCTL_NOTIF_SEND, ffi.SECCOMP_IOCTL_NOTIF_ID_VALID,
                    ffi.SECCOMP_IOCTL_NOTIF_ADDFD, ffi.SECCOMP_IOCTL_NOTIF_SET_FLAGS),
}

# per platform: what its loop needs beyond the above
PLATFORM_EXTRAS: dict[str, dict[str, tuple | None]] = {
    # the processes' pidfds, watched for their exits (unotify.ProcessExits)
    "unotify": {"epoll_create1": None, "epoll_ctl": None, "epoll_wait": None},
    # the tracer thread: seize, stops, registers, single-steps; waiting for its tracees;
    # a signal held back during a descriptor hand-over queued again with its siginfo
    "ptrace": {"ptrace": None, "rt_tgsigqueueinfo": None},
}

# the OCI runtime's long-lived sentry (sentry/oci/daemon.py): its control socket
# (connections accepted, non-blocking); a terminal's master side sent to conmon's or
# the shim's console socket (a unix socket, connected once the container is created)
OCI_EXTRAS: dict[str, tuple | None] = {
    "accept4": None,
    "socket": one_of(0, socket.AF_UNIX), "connect": None,
    "ioctl": SENTRY["ioctl"] + one_of(1, _FIONBIO),
}


def sentry_rules(platform: str, oci: bool = False) -> dict[str, tuple | None]:
    rules = dict(SENTRY)
    rules.update(PLATFORM_EXTRAS[platform])
    if oci:
        rules.update(OCI_EXTRAS)
    return rules
