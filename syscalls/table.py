"""The declarative x86_64 syscall table.

Every syscall number the kernel knows has one entry: its name, its disposition
(host: runs on the host kernel; emulate: the sentry services it; deny: fails with the
named errno), the handler for emulated ones, a support level and a note. The table
drives the seccomp filter (sentry/platform/bpf.py), the dispatch (a list indexed by
number), `sandvisor help syscalls` and the compatibility report. A number absent from
the table is denied with ENOSYS by the filter's default action.
"""

from __future__ import annotations

import enum
from errno import EPERM, ENOSYS
from typing import Callable, NamedTuple

from syscalls import attr, exec as exec_, file, identity, namei, stat as stat_


class Disposition(enum.Enum):
    HOST = "host"
    EMULATE = "emulate"
    DENY = "deny"


class Support(enum.Enum):
    FULL = "full"
    PARTIAL = "partial"
    UNIMPLEMENTED = "unimplemented"


class Entry(NamedTuple):
    """One syscall: how it is handled, and how well. (A named tuple: ~380 are built at
    every start-up, and a frozen dataclass was 0.9 ms slower to create and fill.)"""
    nr: int
    name: str
    disposition: Disposition
    handler: Callable | None = None
    errno: int = 0
    support: Support = Support.PARTIAL
    note: str = ""
    # argument-level rules for host syscalls, compiled into the filter: the syscall
    # runs when an "allow" rule matches, fails with a rule's errno when that one
    # matches, and fails with ENOSYS when none does. A rule is (action, conditions),
    # each condition (arg index, "eq" | "ne" | "masked_eq", value, mask).
    arg_rules: tuple[tuple[object, tuple[tuple[int, str, int, int], ...]], ...] = ()


# Names of every x86_64 syscall number (arch/x86/entry/syscalls/syscall_64.tbl).
_NAMES_0_334 = """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select
sched_yield mremap msync mincore madvise shmget shmat shmctl dup dup2 pause nanosleep
getitimer alarm setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg
recvmsg shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt
clone fork vfork execve exit wait4 kill uname semget semop semctl shmdt msgget msgsnd
msgrcv msgctl fcntl flock fsync fdatasync truncate ftruncate getdents getcwd chdir fchdir
rename mkdir rmdir creat link unlink symlink readlink chmod fchmod chown fchown lchown
umask gettimeofday getrlimit getrusage sysinfo times ptrace getuid syslog getgid setuid
setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid
capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack
utime mknod uselib personality ustat statfs fstatfs sysfs getpriority setpriority
sched_setparam sched_getparam sched_setscheduler sched_getscheduler
sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock munlock
mlockall munlockall vhangup modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex
setrlimit chroot sync acct settimeofday mount umount2 swapon swapoff reboot sethostname
setdomainname iopl ioperm create_module init_module delete_module get_kernel_syms
query_module quotactl nfsservctl getpmsg putpmsg afs_syscall tuxcall security gettid
readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr
flistxattr removexattr lremovexattr fremovexattr tkill time futex sched_setaffinity
sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit io_cancel
get_thread_area lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old
remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64
timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_settime
clock_gettime clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes
vserver mbind set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive
mq_notify mq_getsetattr kexec_load waitid add_key request_key keyctl ioprio_set
ioprio_get inotify_init inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat
mknodat fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat
fchmodat faccessat pselect6 ppoll unshare set_robust_list get_robust_list splice tee
sync_file_range vmsplice move_pages utimensat epoll_pwait signalfd timerfd_create eventfd
fallocate timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3
pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open recvmmsg
fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at clock_adjtime
syncfs sendmmsg setns getcpu process_vm_readv process_vm_writev kcmp finit_module
sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create kexec_file_load bpf
execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect
pkey_alloc pkey_free statx io_pgetevents rseq
""".split()

_NAMES_424 = """
pidfd_send_signal io_uring_setup io_uring_enter io_uring_register open_tree move_mount
fsopen fsconfig fsmount fspick pidfd_open clone3 close_range openat2 pidfd_getfd
faccessat2 process_madvise epoll_pwait2 mount_setattr quotactl_fd
landlock_create_ruleset landlock_add_rule landlock_restrict_self memfd_secret
process_mrelease futex_waitv set_mempolicy_home_node cachestat fchmodat2
map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount
lsm_get_self_attr lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat
listxattrat removexattrat open_tree_attr file_getattr file_setattr
""".split()

NAMES: dict[int, str] = {**dict(enumerate(_NAMES_0_334)),
                         **{424 + i: n for i, n in enumerate(_NAMES_424)}}
NUMBERS: dict[str, int] = {n: nr for nr, n in NAMES.items()}

# Operations on resources the application already holds, or on itself only.
_HOST = """
read write close fstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask
rt_sigreturn ioctl pread64 pwrite64 readv writev pipe select sched_yield mremap msync
mincore madvise shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm setitimer
getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind
listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork 
wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
fdatasync ftruncate getdents getcwd fchdir fchmod fchown  gettimeofday getrlimit
getrusage sysinfo times getuid getgid   geteuid getegid setpgid getppid
getpgrp setsid   getgroups   getresuid 
getresgid getpgid   getsid capget  rt_sigpending rt_sigtimedwait
rt_sigqueueinfo rt_sigsuspend sigaltstack fstatfs getpriority setpriority sched_setparam
sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall prctl
personality
arch_prctl setrlimit sync gettid readahead fsetxattr fgetxattr flistxattr fremovexattr
tkill time futex sched_setaffinity sched_getaffinity getdents64 set_tid_address
restart_syscall semtimedop fadvise64 timer_create timer_settime timer_gettime
timer_getoverrun timer_delete clock_gettime clock_getres clock_nanosleep exit_group
epoll_wait epoll_ctl tgkill waitid inotify_init inotify_rm_watch pselect6 ppoll
set_robust_list get_robust_list splice tee sync_file_range vmsplice epoll_pwait
signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4
signalfd4 eventfd2 epoll_create epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev
rt_tgsigqueueinfo recvmmsg prlimit64 syncfs sendmmsg getcpu getrandom memfd_create
membarrier mlock2 copy_file_range preadv2 pwritev2 rseq pidfd_send_signal pidfd_open
close_range epoll_pwait2 futex_waitv process_madvise mseal io_setup io_destroy
io_getevents io_submit io_cancel io_pgetevents mq_open mq_unlink mq_timedsend
mq_timedreceive mq_notify mq_getsetattr set_mempolicy get_mempolicy mbind
sched_setattr sched_getattr ioprio_set ioprio_get cachestat futex_wake futex_wait
futex_requeue map_shadow_stack pkey_mprotect pkey_alloc pkey_free kcmp
""".split()

_CLONE_NS_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_AF_PACKET, _SOCK_RAW, _SOCK_TYPE_MASK = 17, 3, 0xF
ALLOW = "allow"
# clone: no new namespaces. socket: no packet sockets, no raw sockets; stream, datagram
# and seqpacket sockets of every other family (inet sockets only reach the sandbox's
# own network namespace unless --network host).
_CLONE_NS_BITS = [1 << i for i in range(32) if _CLONE_NS_FLAGS & (1 << i)]
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # push input into a terminal / console ioctls


def _allow_unless_u32(arg: int, refused: set[int]) -> tuple:
    """Allow rules matching every 32-bit value of `arg` except `refused` (libseccomp
    has no masked not-equal, and an unconditional allow would override any deny). The
    kernel reads ioctl's request as 32 bits, so the upper half is ignored."""
    agree = 0xFFFFFFFF
    for value in refused:
        agree &= ~(value ^ next(iter(refused))) & 0xFFFFFFFF
    base = next(iter(refused)) & agree
    rules = [(ALLOW, ((arg, "masked_eq", ~base & bit & 0xFFFFFFFF, bit),))
             for bit in (1 << i for i in range(32)) if agree & bit]
    free = [1 << i for i in range(32) if not agree & (1 << i)]
    for combo in range(1 << len(free)):
        value = base | sum(bit for i, bit in enumerate(free) if combo >> i & 1)
        if value not in refused:
            rules.append((ALLOW, ((arg, "masked_eq", value, 0xFFFFFFFF),)))
    return tuple(rules)

_ARG_RULES = {
    "clone": ((ALLOW, ((0, "masked_eq", 0, _CLONE_NS_FLAGS),)),
              *((EPERM, ((0, "masked_eq", bit, bit),)) for bit in _CLONE_NS_BITS)),
    "ioctl": (*_allow_unless_u32(1, {_TIOCSTI, _TIOCLINUX}),
              (EPERM, ((1, "masked_eq", _TIOCSTI, 0xFFFFFFFF),)),
              (EPERM, ((1, "masked_eq", _TIOCLINUX, 0xFFFFFFFF),))),
    # fstat(fd) as glibc issues it (newfstatat with AT_EMPTY_PATH) runs on the host: a
    # racing rewrite of the "" can only name a path of the view, which the kernel
    # resolves in the sandbox's own mount namespace (DESIGN.md)
    "newfstatat": ((ALLOW, ((3, "masked_eq", 0x1000, 0x1000),)),
                   ("trap", ((3, "masked_eq", 0, 0x1000),))),
    # futimens(fd) as glibc issues it (utimensat with a NULL path) runs on the host: it
    # names no path, only the caller's own descriptor, as fchmod and fchown do (tar
    # sets each file's times so: 2 000 round trips in the untar workload)
    "utimensat": ((ALLOW, ((1, "eq", 0, 0),)),
                  ("trap", ((1, "ne", 0, 0),))),
    # personality: the query and the Linux personalities Docker's profile allows (32-bit
    # address space, UNAME26); no READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE. Others: ENOSYS
    "personality": tuple((ALLOW, ((0, "masked_eq", value, 0xFFFFFFFF),))
                         for value in (0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)),
    "socket": (*((ALLOW, ((0, "ne", _AF_PACKET, 0), (1, "masked_eq", kind, _SOCK_TYPE_MASK)))
                 for kind in (1, 2, 5)),
               (EPERM, ((0, "eq", _AF_PACKET, 0),)),
               (EPERM, ((1, "masked_eq", _SOCK_RAW, _SOCK_TYPE_MASK),))),
}

_EMULATED: dict[str, tuple[Callable, str]] = {
    "open": (file.open_, ""),
    "openat": (file.openat, ""),
    "openat2": (file.openat2, ""),
    "creat": (file.creat, ""),
    "stat": (stat_.stat, ""),
    "lstat": (stat_.lstat, ""),
    "newfstatat": (stat_.newfstatat, ""),
    "statx": (stat_.statx, ""),
    "access": (stat_.access, ""),
    "faccessat": (stat_.faccessat, ""),
    "faccessat2": (stat_.faccessat2, ""),
    "readlink": (stat_.readlink, ""),
    "readlinkat": (stat_.readlinkat, ""),
    "statfs": (stat_.statfs, ""),
    "chdir": (namei.chdir, "resolved by the VFS, then applied in the sandbox's mount namespace"),
    "mkdir": (namei.mkdir, ""),
    "mkdirat": (namei.mkdirat, ""),
    "mknod": (namei.mknod, "regular files and fifos only"),
    "mknodat": (namei.mknodat, "regular files and fifos only"),
    "rmdir": (namei.rmdir, ""),
    "unlink": (namei.unlink, ""),
    "unlinkat": (namei.unlinkat, ""),
    "rename": (namei.rename, ""),
    "renameat": (namei.renameat, ""),
    "renameat2": (namei.renameat2, ""),
    "link": (namei.link, ""),
    "linkat": (namei.linkat, ""),
    "symlink": (namei.symlink, ""),
    "symlinkat": (namei.symlinkat, ""),
    "truncate": (attr.truncate, ""),
    "chmod": (attr.chmod, ""),
    "fchmodat": (attr.fchmodat, ""),
    "fchmodat2": (attr.fchmodat2, ""),
    "chown": (attr.chown, ""),
    "lchown": (attr.lchown, ""),
    "fchownat": (attr.fchownat, ""),
    "utime": (attr.utime, ""),
    "utimes": (attr.utimes, ""),
    "futimesat": (attr.futimesat, ""),
    "utimensat": (attr.utimensat, "emulated; with a NULL path (futimens) it runs on the host kernel"),
    "getxattr": (attr.getxattr, ""),
    "lgetxattr": (attr.lgetxattr, ""),
    "listxattr": (attr.listxattr, ""),
    "llistxattr": (attr.llistxattr, ""),
    "setxattr": (attr.setxattr, ""),
    "lsetxattr": (attr.lsetxattr, ""),
    "removexattr": (attr.removexattr, ""),
    "lremovexattr": (attr.lremovexattr, ""),
    "execve": (exec_.execve, "checked by the VFS, then run by the host kernel in the sandbox's mount namespace"),
    "execveat": (exec_.execveat, "checked by the VFS, then run by the host kernel in the sandbox's mount namespace"),
    "inotify_add_watch": (stat_.inotify_add_watch, "the watch is placed on the resolved inode"),
    "exit": (identity.exit_, "runs on the host; the sentry forgets the thread"),
    **{name: (identity.invalidate_creds, "runs on the host; the sentry re-reads the caller's ids")
       for name in ("setuid", "setgid", "setreuid", "setregid", "setgroups", "setresuid",
                    "setresgid", "setfsuid", "setfsgid", "capset", "umask")},
}

_DENIED: dict[str, tuple[int, str]] = {
    "ptrace": (EPERM, "no tracing inside the sandbox"),
    "syslog": (EPERM, "host kernel log"),
    "mount": (EPERM, "the sandbox's mount table is fixed at start"),
    "umount2": (EPERM, "the sandbox's mount table is fixed at start"),
    "pivot_root": (EPERM, "the sandbox's mount table is fixed at start"),
    "chroot": (EPERM, "not supported"),
    "unshare": (EPERM, "no new namespaces inside the sandbox"),
    "setns": (EPERM, "no namespace changes inside the sandbox"),
    "clone3": (ENOSYS, "its flags live in memory and cannot be checked safely; libc falls back to clone"),
    "bpf": (EPERM, "host kernel surface"),
    "io_uring_setup": (EPERM, "host kernel surface; bypasses syscall filtering"),
    "io_uring_enter": (EPERM, "host kernel surface"),
    "io_uring_register": (EPERM, "host kernel surface"),
    "kexec_load": (EPERM, "host kernel"),
    "kexec_file_load": (EPERM, "host kernel"),
    "init_module": (EPERM, "host kernel"),
    "finit_module": (EPERM, "host kernel"),
    "delete_module": (EPERM, "host kernel"),
    "perf_event_open": (EPERM, "host kernel surface"),
    "keyctl": (EPERM, "host keyrings"),
    "add_key": (EPERM, "host keyrings"),
    "request_key": (EPERM, "host keyrings"),
    "userfaultfd": (EPERM, "host kernel surface"),
    "open_by_handle_at": (EPERM, "would bypass path resolution"),
    "name_to_handle_at": (EPERM, "file handles are not supported"),
    "process_vm_readv": (EPERM, "no cross-process memory access"),
    "process_vm_writev": (EPERM, "no cross-process memory access"),
    "pidfd_getfd": (EPERM, "no cross-process descriptor access"),
    "reboot": (EPERM, "host"),
    "swapon": (EPERM, "host"),
    "swapoff": (EPERM, "host"),
    "acct": (EPERM, "host"),
    "settimeofday": (EPERM, "host clock"),
    "clock_settime": (EPERM, "host clock"),
    "clock_adjtime": (EPERM, "host clock"),
    "adjtimex": (EPERM, "host clock"),
    "sethostname": (EPERM, "set with --hostname"),
    "setdomainname": (EPERM, "host"),
    "iopl": (EPERM, "host hardware"),
    "ioperm": (EPERM, "host hardware"),
    "quotactl": (EPERM, "host"),
    "quotactl_fd": (EPERM, "host"),
    "lookup_dcookie": (EPERM, "host"),
    "fanotify_init": (EPERM, "host kernel surface"),
    "fanotify_mark": (EPERM, "host kernel surface"),
    "open_tree": (EPERM, "mount API"),
    "open_tree_attr": (EPERM, "mount API"),
    "move_mount": (EPERM, "mount API"),
    "fsopen": (EPERM, "mount API"),
    "fsconfig": (EPERM, "mount API"),
    "fsmount": (EPERM, "mount API"),
    "fspick": (EPERM, "mount API"),
    "mount_setattr": (EPERM, "mount API"),
    "statmount": (EPERM, "mount API"),
    "listmount": (EPERM, "mount API"),
    "modify_ldt": (EPERM, "host kernel surface"),
    "uselib": (ENOSYS, "obsolete"),
    "memfd_secret": (ENOSYS, "not supported"),
    "vhangup": (EPERM, "host"),
    "migrate_pages": (EPERM, "host memory policy"),
    "move_pages": (EPERM, "host memory policy"),
    "set_mempolicy_home_node": (EPERM, "host memory policy"),
    "process_mrelease": (EPERM, "host"),
    "landlock_create_ruleset": (ENOSYS, "not supported"),
    "landlock_add_rule": (ENOSYS, "not supported"),
    "landlock_restrict_self": (ENOSYS, "not supported"),
    "seccomp": (EPERM, "nested filters are not supported"),
    "ustat": (ENOSYS, "obsolete"),
    "sysfs": (ENOSYS, "obsolete"),
    "_sysctl": (ENOSYS, "obsolete"),
    "lsm_get_self_attr": (ENOSYS, "not supported"),
    "lsm_set_self_attr": (ENOSYS, "not supported"),
    "lsm_list_modules": (ENOSYS, "not supported"),
    "setxattrat": (ENOSYS, "not supported yet"),
    "getxattrat": (ENOSYS, "not supported yet"),
    "listxattrat": (ENOSYS, "not supported yet"),
    "removexattrat": (ENOSYS, "not supported yet"),
    "file_getattr": (ENOSYS, "not supported yet"),
    "file_setattr": (ENOSYS, "not supported yet"),
}

_UNIMPLEMENTED = """
create_module get_kernel_syms query_module nfsservctl getpmsg putpmsg afs_syscall tuxcall
security vserver epoll_ctl_old epoll_wait_old remap_file_pages set_thread_area
get_thread_area
""".split()


# Raised to FULL by the conformance suite (docs/CONFORMANCE.md): every one has at least two
# cases, all of them pass under sandvisor, and the fuzzer knows no difference for it
# (rename and link do not qualify; neither do setgid, while setuid's known difference
# stands, and socket, whose invalid-type errno differs).
# tests/conformance/test_claims.py keeps it honest.
FULL_BY_CONFORMANCE = frozenset("""
accept access bind chdir chmod chown clock_gettime close connect dup dup2 epoll_ctl
epoll_wait eventfd2 execve execveat fcntl fork fstat futex getcwd getdents64 getpid
getppid getsockname gettimeofday getxattr ioctl kill listen lseek memfd_create mknodat
mmap mprotect msync munmap nanosleep newfstatat openat pipe2 poll pwrite64 read
renameat2 rmdir rt_sigaction rt_sigprocmask rt_sigqueueinfo select sendmsg setitimer
setrlimit setsockopt setxattr signalfd4 socketpair statx time timer_create timer_settime
timerfd_create timerfd_settime unlink wait4 waitid
""".split())


# host syscalls whose arguments the filter checks (_ARG_RULES): what is refused
_HOST_NOTES = {
    "clone": "runs on the host kernel; namespace flags refused (EPERM)",
    "socket": "runs on the host kernel; raw and packet sockets refused (EPERM)",
    "ioctl": "runs on the host kernel; TIOCSTI and TIOCLINUX refused (EPERM)",
    "personality": "runs on the host kernel for the query, PER_LINUX, PER_LINUX32 and "
                   "UNAME26; any other personality refused (ENOSYS)",
    "getcwd": "runs on the host kernel: the application's root is the sandbox's view "
              "(DESIGN.md), so the kernel's path is the sandbox path",
}


def _build() -> dict[int, Entry]:
    table: dict[int, Entry] = {}
    for name in _HOST:
        nr = NUMBERS[name]
        table[nr] = Entry(nr, name, Disposition.HOST, support=Support.PARTIAL,
                          note=_HOST_NOTES.get(name, "runs on the host kernel"),
                          arg_rules=_ARG_RULES.get(name, ()))
    for name, (handler, note) in _EMULATED.items():
        nr = NUMBERS[name]
        table[nr] = Entry(nr, name, Disposition.EMULATE, handler=handler,
                          support=Support.PARTIAL, note=note or "emulated by the sentry",
                          arg_rules=_ARG_RULES.get(name, ()))
    for name, (err, note) in _DENIED.items():
        nr = NUMBERS[name]
        table[nr] = Entry(nr, name, Disposition.DENY, errno=err, support=Support.UNIMPLEMENTED,
                          note=note)
    for name in _UNIMPLEMENTED:
        nr = NUMBERS[name]
        table[nr] = Entry(nr, name, Disposition.DENY, errno=ENOSYS,
                          support=Support.UNIMPLEMENTED, note="not implemented by Linux x86_64")
    for nr, entry in table.items():
        if entry.name in FULL_BY_CONFORMANCE:
            table[nr] = entry._replace(support=Support.FULL)
    missing = set(NAMES) - set(table)
    if missing:
        raise RuntimeError(f"syscall table has no entry for {sorted(NAMES[n] for n in missing)}")
    return dict(sorted(table.items()))


# O(1) dispatch: the handlers indexed by syscall number, straight from _EMULATED. The
# sentry needs only this list, so TABLE (~380 entries) is built on first use instead
# (module __getattr__, below): at every start-up it cost 0.4-0.7 ms of the sentry's
# critical path, in a process whose pages the fork of init has just made copy-on-write.
HANDLERS: list[Callable | None] = [None] * (max(NAMES) + 1)
for _name, (_handler, _note) in _EMULATED.items():
    HANDLERS[NUMBERS[_name]] = _handler


def __getattr__(name: str):
    if name == "TABLE":
        table = globals()["TABLE"] = _build()   # later lookups find the global
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
