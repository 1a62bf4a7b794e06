"""The one thin FFI layer: kernel constants, struct layouts and raw syscalls.

Everything above this module is pure Python. Struct sizes and ioctl numbers are
asserted in tests/unit/test_ffi.py against the values measured on the target kernel.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import stat
import struct
import threading

# glibc's soname on x86_64, the only arch the table covers (find_library would spawn
# ldconfig: ~30 ms of every start-up)
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

# The native helper (sentry/native.c, cffi API mode, built at install time) for the
# calls every trapped path syscall makes; the ctypes versions below stand in when it
# is not built. NATIVE_ERROR says why it is missing.
try:
    from sentry._native import ffi as _cffi, lib as _native
    NATIVE_ERROR = ""
except ImportError as _exc:  # not built: a checkout without `pip install`, no compiler
    _cffi = _native = None
    NATIVE_ERROR = str(_exc)

# --- x86_64 syscall numbers used directly (not through the table) -------------
NR_PIVOT_ROOT = 155
NR_SECCOMP = 317
NR_PIDFD_SEND_SIGNAL = 424
NR_OPENAT2 = 437
NR_PIDFD_OPEN = 434
NR_PIDFD_GETFD = 438

# --- audit arches -----------------------------------------------------------
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000

# --- seccomp -----------------------------------------------------------------
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_GET_NOTIF_SIZES = 3
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
SECCOMP_ADDFD_FLAG_SETFD = 1
SECCOMP_ADDFD_FLAG_SEND = 2
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102
SECCOMP_IOCTL_NOTIF_ADDFD = 0x40182103
SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104

# struct seccomp_notif { u64 id; u32 pid; u32 flags; struct seccomp_data data; }
# struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }
SECCOMP_NOTIF = struct.Struct("=QIIiIQ6Q")
SECCOMP_NOTIF_SIZE = 80
# struct seccomp_notif_resp { u64 id; s64 val; s32 error; u32 flags; }
SECCOMP_NOTIF_RESP = struct.Struct("=QqiI")
SECCOMP_NOTIF_RESP_SIZE = 24
# struct seccomp_notif_addfd { u64 id; u32 flags; u32 srcfd; u32 newfd; u32 newfd_flags; }
SECCOMP_NOTIF_ADDFD = struct.Struct("=QIIII")
SECCOMP_DATA_SIZE = 64
# struct sock_fprog { unsigned short len; struct sock_filter *filter; }
SOCK_FILTER = struct.Struct("=HBBI")

# --- namespaces, mounts, prctl ------------------------------------------------
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36

# --- openat2 ------------------------------------------------------------------
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
OPEN_HOW = struct.Struct("=QQQ")

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_EACCESS = 0x200
AT_EMPTY_PATH = 0x1000

PATH_MAX = 4096
NAME_MAX = 255


def _check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)))


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)))


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    ret = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or ''} {source} on {target}: {os.strerror(err)}")


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)))


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_syscall(NR_PIVOT_ROOT, new_root.encode(), put_old.encode()))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                              ctypes.c_ulong(arg4), ctypes.c_ulong(arg5)))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, ctypes.c_size_t(len(raw))))


def seccomp_get_notif_sizes() -> tuple[int, int, int]:
    buf = (ctypes.c_uint16 * 3)()
    _check(_syscall(NR_SECCOMP, SECCOMP_GET_NOTIF_SIZES, 0, ctypes.byref(buf)))
    return buf[0], buf[1], buf[2]


def seccomp_load_filter(bpf: bytes, flags: int) -> int:
    """Install a raw BPF program; with NEW_LISTENER returns the listener fd."""
    count = len(bpf) // SOCK_FILTER.size
    prog_buf = ctypes.create_string_buffer(bpf, len(bpf))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(count, ctypes.cast(prog_buf, ctypes.c_void_p))
    return _check(_syscall(NR_SECCOMP, SECCOMP_SET_MODE_FILTER, ctypes.c_ulong(flags),
                           ctypes.byref(prog)))


# --- Landlock (the application confined to files beneath its view's root) -------------
NR_LANDLOCK_CREATE_RULESET = 444
NR_LANDLOCK_ADD_RULE = 445
NR_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# every filesystem access right, by the ABI version that added it (1: execute ..
# make_sym, 2: refer, 3: truncate, 5: ioctl_dev); 4, 6 and 7 added none for files
LANDLOCK_ACCESS_FS = {1: (1 << 13) - 1, 2: 1 << 13, 3: 1 << 14, 5: 1 << 15}
LANDLOCK_RULESET_ATTR = struct.Struct("=Q")          # handled_access_fs (the first field)
LANDLOCK_PATH_BENEATH_ATTR = struct.Struct("=Qi")    # allowed_access, parent_fd (packed)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where it has none (or it is disabled)."""
    ret = _syscall(NR_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                   ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(ret, 0)


def landlock_confine_beneath(dir_fds: list[int], abi: int) -> None:
    """Restrict the calling thread (and what it execs or forks) to the files beneath
    the directories `dir_fds`: every filesystem right the ABI knows is handled, and all
    of them are granted beneath those, so only files elsewhere (reached through a
    descriptor from outside, or a /proc magic link to one) are refused. Needs
    no_new_privs."""
    rights = sum(bits for version, bits in LANDLOCK_ACCESS_FS.items() if version <= abi)
    attr = ctypes.create_string_buffer(LANDLOCK_RULESET_ATTR.pack(rights))
    ruleset = _check(_syscall(NR_LANDLOCK_CREATE_RULESET, attr,
                              ctypes.c_size_t(LANDLOCK_RULESET_ATTR.size), ctypes.c_uint32(0)))
    try:
        for dir_fd in dir_fds:
            rule = ctypes.create_string_buffer(LANDLOCK_PATH_BENEATH_ATTR.pack(rights, dir_fd))
            _check(_syscall(NR_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule,
                            ctypes.c_uint32(0)))
        _check(_syscall(NR_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)))
    finally:
        os.close(ruleset)


def pidfd_open(pid: int) -> int:
    return _check(_syscall(NR_PIDFD_OPEN, pid, 0))


def pidfd_send_signal(pidfd: int, sig: int) -> None:
    _check(_syscall(NR_PIDFD_SEND_SIGNAL, pidfd, sig, None, 0))


_HOW: dict[tuple[int, int, int], ctypes.Array] = {}   # struct open_how, by value
_HOW_SIZE = ctypes.c_size_t(OPEN_HOW.size)


def _raise_neg(ret: int) -> int:
    """A native helper's result: -errno raises."""
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return ret


def openat2(dirfd: int, path: str | bytes, flags: int, mode: int = 0, resolve: int = 0) -> int:
    raw = path.encode() if isinstance(path, str) else path
    if _native is not None:
        return _raise_neg(_native.sv_openat2(dirfd, raw, flags, mode, resolve))
    how = _HOW.get((flags, mode, resolve))
    if how is None:  # the kernel only reads it: the few combinations in use are kept
        how = ctypes.create_string_buffer(OPEN_HOW.pack(flags, mode, resolve), OPEN_HOW.size)
        if len(_HOW) < 64:
            _HOW[(flags, mode, resolve)] = how
    return _check(_syscall(NR_OPENAT2, dirfd, raw, how, _HOW_SIZE))


def errno_name(err: int) -> str:
    return errno.errorcode.get(err, f"E{err}")


# --- file operations the os module lacks (raw structs, *at with AT_EMPTY_PATH) ----
NR_FACCESSAT2 = 439
_libc.fstatat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
_libc.statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint,
                        ctypes.c_void_p]
_libc.fchownat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint,
                           ctypes.c_int]
_libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                            ctypes.c_uint]
_libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
STAT_SIZE = 144
ST_MODE_OFF = 24   # of st_mode in x86_64's struct stat
# st_mode is little-endian: its file type (S_IFMT, 0o170000) is the high nibble of its
# second byte
_S_IFLNK_BYTE = (stat.S_IFLNK >> 8) & 0xF0


def stat_is_link(raw: bytes) -> bool:
    """S_ISLNK of a struct stat's bytes, without decoding st_mode (stat's hot path)."""
    return raw[ST_MODE_OFF + 1] & 0xF0 == _S_IFLNK_BYTE
STATX_SIZE = 256


def fstatat_raw(fd: int, buf) -> None:
    """struct stat of `fd` (any kind, O_PATH included) into `buf`."""
    fstatat_name_raw(fd, b"", buf, AT_EMPTY_PATH)


def statx_raw(dirfd: int, path: bytes, flags: int, mask: int, buf) -> None:
    _check(_libc.statx(dirfd, path, flags, mask, buf))


def faccessat2(dirfd: int, path: bytes, mode: int, flags: int) -> None:
    _check(_syscall(NR_FACCESSAT2, dirfd, path, mode, flags))


def fchownat(dirfd: int, path: bytes, uid: int, gid: int, flags: int) -> None:
    _check(_libc.fchownat(dirfd, path, uid & 0xFFFFFFFF, gid & 0xFFFFFFFF, flags))


def renameat2(olddir: int, old: bytes, newdir: int, new: bytes, flags: int) -> None:
    _check(_libc.renameat2(olddir, old, newdir, new, flags))


def utimensat(dirfd: int, path: bytes, times: tuple[int, int, int, int], flags: int) -> None:
    ts = (ctypes.c_long * 4)(*times)
    _check(_libc.utimensat(dirfd, path, ts, flags))


def setfsuid(uid: int) -> None:
    _libc.setfsuid(ctypes.c_uint(uid))


def setfsgid(gid: int) -> None:
    _libc.setfsgid(ctypes.c_uint(gid))
STATFS_SIZE = 120
_libc.fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]
_libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]


MQUEUE_MAGIC = 0x19800202   # linux/magic.h


def fs_type(path: str) -> int:
    """statfs(2)'s f_type for `path` (its first field); 0 if it cannot be read."""
    buf = ctypes.create_string_buffer(STATFS_SIZE)
    if _libc.statfs(path.encode(), buf) < 0:
        return 0
    return int.from_bytes(buf.raw[:8], "little")


def fstatfs_raw(fd: int, buf) -> None:
    _check(_libc.fstatfs(fd, buf))


def stat_raw(path: bytes, buf) -> None:
    """struct stat of `path` (following magic links such as /proc/PID/fd/N)."""
    fstatat_name_raw(AT_FDCWD, path, buf, 0)


def pidfd_getfd_of(pid: int, fd: int) -> int:
    """A copy of descriptor `fd` of process `pid`, close-on-exec."""
    pidfd = pidfd_open(pid)
    try:
        return _check(_syscall(NR_PIDFD_GETFD, pidfd, fd, 0))
    finally:
        os.close(pidfd)


_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


def inotify_add_watch(fd: int, path: bytes, mask: int) -> int:
    return _check(_libc.inotify_add_watch(fd, path, mask))


def signalfd(signals) -> int:
    """A non-blocking, close-on-exec signalfd for `signals` (which must be blocked)."""
    mask = (ctypes.c_ulong * 16)()
    for s in signals:
        mask[(s - 1) // 64] |= 1 << ((s - 1) % 64)
    return _check(_libc.signalfd(-1, ctypes.byref(mask), os.O_NONBLOCK | os.O_CLOEXEC))


def set_process_name(name: str) -> None:
    """The name ps and /proc/PID/comm show (at most 15 bytes)."""
    buf = ctypes.create_string_buffer(name.encode()[:15])
    _check(_libc.prctl(PR_SET_NAME, buf, 0, 0, 0))


# =====================================================================================
# --- ptrace platform (sentry/platform/ptrace.py) ---------------------------------------
# What python-ptrace 0.9.9 lacks: SEIZE/INTERRUPT/LISTEN, TRACESECCOMP, EXITKILL,
# PTRACE_GET_SYSCALL_INFO, and the x86_64 user_regs_struct offsets used to read and
# rewrite a stopped syscall. Requests are issued through python-ptrace's own
# `ptrace.binding.func.ptrace` (imported, never copied); these are only the numbers.
# =====================================================================================
PTRACE_CONT = 7
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_SINGLESTEP = 9
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_GETSIGINFO = 0x4202
PTRACE_SETSIGINFO = 0x4203
SIGINFO_SIZE = 128          # siginfo_t, whatever the signal
SI_TKILL = -6               # si_code of tgkill; rt_tgsigqueueinfo refuses it for others
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GET_SYSCALL_INFO = 0x420E

PTRACE_O_TRACESYSGOOD = 0x01
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEVFORK = 0x04
PTRACE_O_TRACECLONE = 0x08
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACEVFORKDONE = 0x20
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_VFORK_DONE = 5
PTRACE_EVENT_EXIT = 6
PTRACE_EVENT_SECCOMP = 7
PTRACE_EVENT_STOP = 128

PTRACE_SYSCALL_INFO_NONE = 0
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
PTRACE_SYSCALL_INFO_SECCOMP = 3
# struct ptrace_syscall_info { u8 op; u8 pad[3]; u32 arch; u64 instruction_pointer;
#   u64 stack_pointer; union { entry {u64 nr; u64 args[6];} exit {s64 rval; u8 is_error;}
#   seccomp {u64 nr; u64 args[6]; u32 ret_data;} } }   (88 bytes with the seccomp member)
PTRACE_SYSCALL_INFO_HEAD = struct.Struct("=B3xIQQ")
PTRACE_SYSCALL_INFO_SECCOMP_ = struct.Struct("=B3xIQQQ6QI4x")
PTRACE_SYSCALL_INFO_EXIT_ = struct.Struct("=B3xIQQqB7x")
PTRACE_SYSCALL_INFO_SIZE = 88

# wait(2) flags the os module does not name
WALL = 0x40000000       # __WALL: clone children (threads) too
WNOTHREAD = 0x20000000  # __WNOTHREAD: only the calling thread's children and tracees

# struct user_regs_struct (x86_64, sys/user.h): 27 unsigned longs, 216 bytes
USER_REGS_NAMES = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
                   "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
                   "fs_base", "gs_base", "ds", "es", "fs", "gs")
USER_REGS_SIZE = 216
REG = {name: 8 * i for i, name in enumerate(USER_REGS_NAMES)}   # name -> byte offset
REG_R10, REG_R9, REG_R8, REG_RAX = REG["r10"], REG["r9"], REG["r8"], REG["rax"]
REG_RDX, REG_RSI, REG_RDI, REG_ORIG_RAX = REG["rdx"], REG["rsi"], REG["rdi"], REG["orig_rax"]
REG_RIP, REG_EFLAGS, REG_RSP = REG["rip"], REG["eflags"], REG["rsp"]
# the syscall's number and arguments in user_regs_struct order of appearance:
# (r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax) starting at offset 56
SYSCALL_REGS = struct.Struct("=QQQqQQQQQ")
SYSCALL_REGS_OFFSET = REG_R10
SYSCALL_INSN_SIZE = 2   # `syscall` (0f 05): rip points just past it at any syscall stop
X86_RED_ZONE = 128

PIDFD_THREAD = os.O_EXCL   # pidfd_open flag (Linux 6.9): a pidfd for one thread
YAMA_PTRACE_SCOPE = "/proc/sys/kernel/yama/ptrace_scope"
CAP_SYS_PTRACE = 19


def pidfd_open_flags(pid: int, flags: int) -> int:
    return _check(_syscall(NR_PIDFD_OPEN, pid, flags))


def pidfd_getfd(pidfd: int, fd: int) -> int:
    """A copy (close-on-exec) of descriptor `fd` of the process behind `pidfd`."""
    return _check(_syscall(NR_PIDFD_GETFD, pidfd, fd, 0))


# --- capabilities -------------------------------------------------------------
CAPABILITIES = {name: i for i, name in enumerate((
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"))}
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
NR_CAPSET = 126


def cap_mask(names) -> int:
    mask = 0
    for name in names:
        if name not in CAPABILITIES:
            raise ValueError(f"unknown capability {name!r}")
        mask |= 1 << CAPABILITIES[name]
    return mask


def capset(effective: int, permitted: int, inheritable: int) -> None:
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF,
                                 inheritable & 0xFFFFFFFF, effective >> 32, permitted >> 32,
                                 inheritable >> 32)
    _check(_syscall(NR_CAPSET, header, data))


NR_CAPGET = 125


def capget() -> tuple[int, int, int]:
    """The calling thread's (effective, permitted, inheritable) capability masks."""
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_syscall(NR_CAPGET, header, data))
    return (data[0] | data[3] << 32, data[1] | data[4] << 32, data[2] | data[5] << 32)


def drop_bounding_except(keep: int) -> None:
    for cap in range(64):
        if keep & (1 << cap):
            continue
        if _libc.prctl(PR_CAPBSET_READ, ctypes.c_ulong(cap), 0, 0, 0) < 0:
            break  # past the last capability this kernel knows
        _check(_libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0))


# --- the new mount API (a mount carried across pivot_root as a descriptor) ------
NR_OPEN_TREE = 428
NR_MOVE_MOUNT = 429
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40


def open_tree_clone(path: str) -> int:
    """A detached copy of the mount at `path`, attachable later with move_mount."""
    return _check(_syscall(NR_OPEN_TREE, AT_FDCWD, path.encode(),
                           OPEN_TREE_CLONE | os.O_CLOEXEC))


def move_mount_fd(tree_fd: int, target_fd: int) -> None:
    _check(_syscall(NR_MOVE_MOUNT, tree_fd, b"", target_fd, b"",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))


NR_MOUNT_SETATTR = 442
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
AT_RECURSIVE = 0x8000


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def mount_setattr(fd: int, attr_set: int, recursive: bool = False) -> None:
    """Add mount attributes (read-only, nosuid) to the mount at `fd` (and those beneath
    it): unlike a remount, it leaves the other flags alone, so it also works on mounts
    whose flags a user namespace may not change (locked nodev, noexec, atime)."""
    attr = MountAttr(attr_set, 0, 0, 0)
    flags = AT_EMPTY_PATH | (AT_RECURSIVE if recursive else 0)
    _check(_syscall(NR_MOUNT_SETATTR, fd, b"", flags, ctypes.byref(attr),
                    ctypes.sizeof(attr)))


def fstatat_name_raw(dirfd: int, name: bytes, buf, flags: int) -> None:
    """struct stat of `name` in directory `dirfd` into `buf` (a ctypes buffer of at
    least STAT_SIZE bytes)."""
    if _native is not None:
        _raise_neg(_native.sv_fstatat(dirfd, name, _cffi.from_buffer(buf), flags))
    else:
        _check(_libc.fstatat(dirfd, name, buf, flags))


# --- the application's memory, with its page protections honoured ----------------
class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(_Iovec), ctypes.c_ulong,
                                   ctypes.POINTER(_Iovec), ctypes.c_ulong, ctypes.c_ulong]
_libc.process_vm_readv.restype = ctypes.c_ssize_t
_libc.process_vm_writev.argtypes = _libc.process_vm_readv.argtypes
_libc.process_vm_writev.restype = ctypes.c_ssize_t


_VM_BUF_SIZE = 4096
_vm_local = threading.local()


def _vm_buffers():
    """This thread's scratch buffer and iovecs for process_vm_*: built once, so a
    call costs ~3 us less than with per-call ctypes objects (one per trapped path)."""
    try:
        return _vm_local.bufs
    except AttributeError:
        buf = ctypes.create_string_buffer(_VM_BUF_SIZE)
        local, remote = _Iovec(ctypes.addressof(buf), 0), _Iovec(0, 0)
        _vm_local.bufs = (buf, ctypes.addressof(buf), local, remote, ctypes.byref(local),
                          ctypes.byref(remote))
        return _vm_local.bufs


def _vm_read_ctypes(pid: int, addr: int, size: int) -> bytes:
    """Up to `size` bytes at `addr` in process `pid`, as the process itself could read
    them (unlike /proc/PID/mem, which ignores PROT_NONE). Raises OSError (EFAULT)."""
    if size > _VM_BUF_SIZE:
        buf = ctypes.create_string_buffer(size)
        base = ctypes.addressof(buf)
        local, remote = _Iovec(base, size), _Iovec(addr, size)
        local_p, remote_p = ctypes.byref(local), ctypes.byref(remote)
    else:
        _buf, base, local, remote, local_p, remote_p = _vm_buffers()
        local.len = size
        remote.base = addr
        remote.len = size
    n = _libc.process_vm_readv(pid, local_p, 1, remote_p, 1, 0)
    if n < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ctypes.string_at(base, n)


def _vm_write_ctypes(pid: int, addr: int, data: bytes) -> int:
    """Write `data` at `addr` in process `pid`, as the process itself could (read-only
    pages refuse it). Returns the bytes written; raises OSError (EFAULT)."""
    size = len(data)
    if size > _VM_BUF_SIZE:
        buf = ctypes.create_string_buffer(data, size)
        local, remote = _Iovec(ctypes.addressof(buf), size), _Iovec(addr, size)
        local_p, remote_p = ctypes.byref(local), ctypes.byref(remote)
    else:
        _buf, base, local, remote, local_p, remote_p = _vm_buffers()
        ctypes.memmove(base, data, size)
        local.len = size
        remote.base = addr
        remote.len = size
    n = _libc.process_vm_writev(pid, local_p, 1, remote_p, 1, 0)
    if n < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return n


def _vm_cstring_ctypes(pid: int, addr: int, limit: int) -> bytes:
    if addr == 0:
        raise OSError(errno.EFAULT, os.strerror(errno.EFAULT))
    out = b""
    first = True
    while len(out) < limit:
        chunk = _PAGE - (addr % _PAGE)
        if first:
            chunk = min(chunk, 256)
            first = False
        try:
            data = _vm_read_ctypes(pid, addr, chunk)
        except (OverflowError, ctypes.ArgumentError):
            data = b""
        if not data:
            raise OSError(errno.EFAULT, os.strerror(errno.EFAULT))
        nul = data.find(b"\0")
        if nul >= 0:
            out += data[:nul]
            break
        out += data
        addr += len(data)
    if len(out) >= limit:
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
    return out


_PAGE = 4096


def _native_buffer():
    """This thread's scratch buffer for the native helpers: a whole PATH_MAX string
    and the page its last chunk may run into. Every user copies its result out
    (`_cffi.unpack`) before it returns: none may hand out a view of it."""
    try:
        return _vm_local.native
    except AttributeError:
        _vm_local.native = _cffi.new("char[]", PATH_MAX + _PAGE)
        return _vm_local.native


def _vm_read_native(pid: int, addr: int, size: int) -> bytes:
    if size > PATH_MAX:
        buf = _cffi.new("char[]", size)
    else:
        buf = _native_buffer()
    n = _native.sv_vm_read(pid, addr, buf, size)
    if n < 0:
        raise OSError(-n, os.strerror(-n))
    return _cffi.unpack(buf, n)


def _vm_cstring_native(pid: int, addr: int, limit: int) -> bytes:
    buf = _native_buffer()
    n = _native.sv_vm_cstring(pid, addr, buf, min(limit, PATH_MAX))
    if n < 0:
        raise OSError(-n, os.strerror(-n))
    return _cffi.unpack(buf, n)


def _vm_write_native(pid: int, addr: int, data: bytes) -> int:
    n = _native.sv_vm_write(pid, addr, data, len(data))
    if n < 0:
        raise OSError(-n, os.strerror(-n))
    return n


# vm_read(pid, addr, size) -> bytes: up to `size` bytes at `addr` in process `pid`, as
# the process itself could read them (unlike /proc/PID/mem, which ignores PROT_NONE);
# vm_cstring(pid, addr, limit) -> bytes: the NUL-terminated string there, read in
# page-bounded chunks (ENAMETOOLONG without a NUL in `limit` bytes); vm_write(pid,
# addr, data) -> count. Each raises OSError (EFAULT) where the process could not.
if _native is not None:
    vm_read, vm_cstring, vm_write = _vm_read_native, _vm_cstring_native, _vm_write_native
else:
    vm_read, vm_cstring, vm_write = _vm_read_ctypes, _vm_cstring_ctypes, _vm_write_ctypes


def _fstatat_bytes_native(dirfd: int, name: bytes, flags: int) -> bytes:
    buf = _native_buffer()
    _raise_neg(_native.sv_fstatat(dirfd, name, buf, flags))
    return _cffi.unpack(buf, STAT_SIZE)


def _fstatat_bytes_ctypes(dirfd: int, name: bytes, flags: int) -> bytes:
    buf = ctypes.create_string_buffer(STAT_SIZE)
    _check(_libc.fstatat(dirfd, name, buf, flags))
    return buf.raw


# fstatat_bytes(dirfd, name, flags) -> the struct stat of `name` in `dirfd`, as bytes:
# what a stat request answers with, in one call (the stat path's hot spot)
fstatat_bytes = _fstatat_bytes_native if _native is not None else _fstatat_bytes_ctypes


# --- the unotify loop's step ------------------------------------------------------
class NativeNotifWaiter:
    """The unotify event loop's answer-and-wait step in C (native.c, sv_step): the
    previous answer is sent, then poll and NOTIF_RECV, in one call. The contract of
    sentry.platform.unotify.PollWaiter, its pure-Python twin."""

    def __init__(self):
        self.listeners: list[int] = []
        self.others: list[int] = []
        self._out = _cffi.new("struct sv_notif *")
        # one unpack of the whole struct: a third of the cost of reading its fields
        self._raw = _cffi.buffer(self._out)
        self._unpack = SECCOMP_NOTIF.unpack_from
        self._revents = _cffi.new("short *")
        self._rebuild()

    @staticmethod
    def available() -> bool:
        return _native is not None

    def add(self, fd: int, listener: bool) -> None:
        (self.listeners if listener else self.others).append(fd)
        self._rebuild()

    def remove(self, fd: int) -> None:
        for fds in (self.listeners, self.others):
            if fd in fds:
                fds.remove(fd)
        self._rebuild()

    def _rebuild(self) -> None:
        self._fds = self.listeners + self.others
        self._n, self._n_listeners = len(self._fds), len(self.listeners)
        self._array = _cffi.new("struct pollfd[]", max(1, self._n))
        for i, fd in enumerate(self._fds):
            self._array[i].fd = fd
            self._array[i].events = 1   # POLLIN; readiness not taken is polled again

    def next(self, reply, timeout: int):
        """Send `reply` (listener, id, value, error, flags) if not None, then wait for
        the next event: (listener, 0, (id, tid, nr, args)) for a notification,
        (fd, poll events, None) for another descriptor or a listener that hung up,
        None on timeout or interruption."""
        afd, nid, val, err, flags = reply if reply is not None else (-1, 0, 0, 0, 0)
        i = _native.sv_step(afd, nid, val, err, flags, self._array, self._n,
                            self._n_listeners, timeout, self._out, self._revents)
        if i < 0:
            return None
        if i < self._n_listeners:
            n = self._unpack(self._raw)   # id, pid, flags, nr, arch, ip, args...
            return self._fds[i], 0, (n[0], n[1], n[3], n[6:])
        return self._fds[i - self._n], self._revents[0], None

    def send(self, reply) -> None:
        """Send a last answer without waiting for anything."""
        afd, nid, val, err, flags = reply
        _native.sv_step(afd, nid, val, err, flags, self._array, 0, 0, 0, self._out,
                        self._revents)


# The CPU the calling thread is running on (glibc reads it from rseq or the vDSO).
getcpu = _native.sched_getcpu if _native is not None else _libc.sched_getcpu


# --- injecting a descriptor (unotify) ---------------------------------------------
def _notif_addfd_native(listener: int, nid: int, srcfd: int, cloexec: bool, tid: int) -> int:
    return _raise_neg(_native.sv_addfd(listener, nid, srcfd, os.O_CLOEXEC if cloexec else 0,
                                       tid, _cffi.NULL))


def _notif_addfd_ioctl(listener: int, nid: int, srcfd: int, cloexec: bool, tid: int) -> int:
    req = bytearray(SECCOMP_NOTIF_ADDFD.pack(nid, 0, srcfd, 0, os.O_CLOEXEC if cloexec else 0))
    return fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, req, True)


# notif_addfd(listener, id, srcfd, cloexec, tid) -> the caller's new descriptor; OSError
# as ADDFD fails. The native one holds the caller `tid` on this CPU meanwhile (native.c,
# sv_addfd: two cross-CPU wake-ups fewer per injected descriptor).
notif_addfd = _notif_addfd_native if _native is not None else _notif_addfd_ioctl


def _notif_id_valid_native(listener: int, nid: int) -> bool:
    return _native.sv_id_valid(listener, nid) == 0


def _notif_id_valid_ioctl(listener: int, nid: int) -> bool:
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, nid.to_bytes(8, "little"))
    except OSError:
        return False
    return True


# notif_id_valid(listener, id) -> whether the notification still waits for its answer
# (its caller is alive, so its tid still names it). The native one is one C call where
# fcntl.ioctl builds and copies a buffer: 1.35 -> 0.8 us per checked path.
notif_id_valid = _notif_id_valid_native if _native is not None else _notif_id_valid_ioctl


# --- descriptors over unix sockets (SCM_RIGHTS) -----------------------------------
def rights(*fds: int) -> list:
    """The ancillary data that passes `fds` with sendmsg (none for no fds)."""
    if not fds:
        return []
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS, b"".join(fd.to_bytes(4, "little") for fd in fds))]


def received_fds(ancdata) -> list[int]:
    """Every descriptor a recvmsg brought, in order."""
    return [int.from_bytes(data[i:i + 4], "little") for level, kind, data in ancdata
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS
            for i in range(0, len(data) - 3, 4)]
