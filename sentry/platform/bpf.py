"""The application's seccomp filter, compiled from the syscall table by libseccomp.

libseccomp (through pyseccomp) writes the BPF: arch check first, x32 numbers and
foreign arches kill the process, every table entry gets its disposition's action,
anything else fails with ENOSYS. The program is exported as raw bytes so it can be
inspected (`evaluate`, used by the unit tests) and loaded in the child with one
seccomp(2) call, without libseccomp state crossing fork.

`compile_allowlist` compiles sandvisor's own allowlists (sentry/allowlist.py,
gofer/allowlist.py; installed by sentry/lockdown.py) the same way.

Compiling takes about 50 ms (pyseccomp's import looks libseccomp up, then ~600 rules),
a third of a sandbox's start: programs are cached on disk under a fingerprint of
their sources, in a directory only the caller owns (a writable cache would be a way to
weaken the filter).
"""

from __future__ import annotations

import errno
import os
import stat
import struct

try:  # hashlib loads OpenSSL first: ~4 ms of every start-up, for one digest
    from _blake2 import blake2b as _digest
except ImportError:
    from hashlib import blake2b as _digest


SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF

_cache: dict[tuple, bytes] = {}
# The one sendmsg that hands the listener over must not be trapped itself (nobody
# could answer it yet). Only relevant with trap_host, where sendmsg is trapped for
# --strace's sake alone: it is a host syscall either way.
HANDOVER_SENDMSG_FLAGS = 0x4040  # MSG_NOSIGNAL | MSG_DONTWAIT


def compile_filter(trap: str = "notify", trap_host: bool = False,
                   deny: frozenset[str] = frozenset(),
                   guarded: frozenset[str] = frozenset()) -> bytes:
    """BPF for the table. `trap` is how emulated syscalls reach the sentry: "notify"
    (user notification) or "trace" (ptrace). With `trap_host`, host syscalls are
    trapped too (for --strace), and the sentry lets them run unchanged. Syscalls named
    in `deny` (a profile's) fail with EPERM whatever their disposition; the host
    syscalls named in `guarded` are trapped for a check (Kernel.guards) before they run."""
    key = (trap, trap_host, deny, guarded)
    if key in _cache:
        return _cache[key]
    fingerprint = _fingerprint(key)
    prog = _load_cached(fingerprint)
    if prog is None:
        prog = _compile(trap, trap_host, deny, guarded)
        _store_cached(fingerprint, prog)
    _cache[key] = prog
    return prog


CACHE_VERSION = 1


# The application's filter is a function of these files alone: the table's rows that
# reach the filter (numbers, dispositions, errnos, argument rules) are written out in
# table.py (tests/unit/test_bpf.py holds it to that), and this module compiles them.
# Keying the cache on their bytes spares start-up the table's import before init is
# forked: the sentry imports it while init and the application set up (Supervisor.run).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTER_SOURCES = (os.path.join(_ROOT, "syscalls", "table.py"), os.path.abspath(__file__))


def _fingerprint(key: tuple) -> str | None:
    """Everything the program depends on: the table's and the compiler's sources, the
    options, libseccomp's output format (CACHE_VERSION, bumped when the compiler
    changes). None when a source cannot be read (no cache then)."""
    digest = _digest(repr((CACHE_VERSION, key[0], key[1], sorted(key[2]), sorted(key[3]),
                           HANDOVER_SENDMSG_FLAGS)).encode(), digest_size=16)
    for path in FILTER_SOURCES:
        try:
            with open(path, "rb") as source:
                digest.update(source.read())
        except OSError:
            return None
    return digest.hexdigest()


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sandvisor", "bpf")


def _load_cached(fingerprint: str | None) -> bytes | None:
    """The program stored under `fingerprint`, if it can be trusted; None: no cache."""
    if fingerprint is None:
        return None
    path = os.path.join(cache_dir(), fingerprint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        dir_st = os.stat(os.path.dirname(path))
        trusted = all(s.st_uid == os.geteuid() and not s.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
                      for s in (st, dir_st))
        prog = os.read(fd, st.st_size) if trusted and stat.S_ISREG(st.st_mode) else b""
    finally:
        os.close(fd)
    return prog if prog and len(prog) % 8 == 0 else None


def _store_cached(fingerprint: str | None, prog: bytes) -> None:
    if fingerprint is None:
        return
    directory = cache_dir()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, prog)
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(directory, fingerprint))
    except OSError:
        pass  # no cache: the next sandbox compiles again


def _compile(trap: str, trap_host: bool, deny: frozenset[str],
             guarded: frozenset[str] = frozenset()) -> bytes:
    import pyseccomp as seccomp  # only on a cache miss: its import alone costs ~20 ms
    from syscalls.table import TABLE, Disposition
    trap_action = seccomp.NOTIFY if trap == "notify" else seccomp.TRACE(0)
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.ENOSYS))
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    f.set_attr(seccomp.Attr.CTL_NNP, 0)  # the application child sets no_new_privs itself
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)  # binary tree: O(log n) per host syscall
    for entry in TABLE.values():
        if entry.name in deny:
            f.add_rule(seccomp.ERRNO(errno.EPERM), entry.nr)
        elif entry.disposition is Disposition.HOST:
            action = trap_action if trap_host or entry.name in guarded else seccomp.ALLOW
            if entry.arg_rules:
                _add_arg_rules(f, entry, action, action)
            elif trap_host and entry.name == "sendmsg":
                f.add_rule(seccomp.ALLOW, entry.nr,
                           seccomp.Arg(2, seccomp.EQ, HANDOVER_SENDMSG_FLAGS))
                f.add_rule(action, entry.nr, seccomp.Arg(2, seccomp.NE, HANDOVER_SENDMSG_FLAGS))
            else:
                f.add_rule(action, entry.nr)
        elif entry.disposition is Disposition.EMULATE:
            if entry.arg_rules and not trap_host:
                _add_arg_rules(f, entry, seccomp.ALLOW, trap_action)
            else:
                f.add_rule(trap_action, entry.nr)
        elif entry.errno != errno.ENOSYS:  # ENOSYS is the default action already
            f.add_rule(seccomp.ERRNO(entry.errno), entry.nr)
    return export(f)


def compile_allowlist(rules: dict, default: int = SECCOMP_RET_KILL_PROCESS) -> bytes:
    """BPF for one of sandvisor's own allowlists (sentry/allowlist.py,
    gofer/allowlist.py): `rules` maps a syscall name to None (any arguments) or to
    alternatives of argument conditions; everything else, and any other arch, gets
    `default` (the process is killed). Cached like the application's filter."""
    norm = sorted((name, tuple(map(tuple, alts)) if alts is not None else None)
                  for name, alts in rules.items())
    key = ("allowlist", default, tuple(norm))
    if key in _cache:
        return _cache[key]
    fingerprint = _digest(repr((CACHE_VERSION, key)).encode(), digest_size=16).hexdigest()
    prog = _load_cached(fingerprint)
    if prog is None:
        prog = _compile_allowlist(norm, default)
        _store_cached(fingerprint, prog)
    _cache[key] = prog
    return prog


def _compile_allowlist(rules: list, default: int) -> bytes:
    import pyseccomp as seccomp
    ops = {"eq": seccomp.EQ, "ne": seccomp.NE, "masked_eq": seccomp.MASKED_EQ}
    f = seccomp.SyscallFilter(defaction=default)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    f.set_attr(seccomp.Attr.CTL_NNP, 0)  # sentry/lockdown.py sets no_new_privs itself
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for name, alts in rules:
        if seccomp.resolve_syscall(seccomp.Arch.X86_64, name) < 0:
            raise ValueError(f"{name!r} is not an x86_64 syscall libseccomp knows")
        if alts is None:
            f.add_rule(seccomp.ALLOW, name)
            continue
        for conds in alts:
            args = [seccomp.Arg(c[0], ops[c[1]], c[3], c[2]) if c[1] == "masked_eq"
                    else seccomp.Arg(c[0], ops[c[1]], c[2]) for c in conds]
            f.add_rule(seccomp.ALLOW, name, *args)
    return export(f)


def export(f) -> bytes:
    """The raw BPF of a libseccomp filter (pyseccomp's SyscallFilter)."""
    fd = os.memfd_create("sandvisor-bpf", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb") as out:
            f.export_bpf(out)
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def _add_arg_rules(f, entry, allow_action: int, trap_action: int | None = None) -> None:
    import pyseccomp as seccomp
    from syscalls.table import ALLOW
    ops = {"eq": seccomp.EQ, "ne": seccomp.NE, "masked_eq": seccomp.MASKED_EQ}
    for action, conds in entry.arg_rules:
        args = [seccomp.Arg(i, ops[op], mask, value) if op == "masked_eq"
                else seccomp.Arg(i, ops[op], value) for i, op, value, mask in conds]
        if action == ALLOW:
            act = allow_action
        elif action == "trap":
            act = trap_action
        else:
            act = seccomp.ERRNO(action)
        f.add_rule(act, entry.nr, *args)


# --- a classic-BPF interpreter, to check what the kernel will do with the program ---
_INSN = struct.Struct("=HBBI")
_decoded: dict[bytes, list] = {}


def evaluate(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = (0,) * 6,
             ip: int = 0) -> int:
    """Run the filter on one seccomp_data and return the action it yields."""
    data = struct.pack("=iIQ6Q", nr, arch, ip, *(list(args) + [0] * (6 - len(args))))
    insns = _decoded.get(prog)
    if insns is None:
        insns = _decoded[prog] = [_INSN.unpack_from(prog, i) for i in range(0, len(prog), 8)]
    a = x = 0
    mem = [0] * 16
    pc = 0
    while pc < len(insns):
        code, jt, jf, k = insns[pc]
        cls = code & 0x07
        if cls == 0x00:  # BPF_LD
            if code == 0x20:    # ld [k] (w, abs)
                a = struct.unpack_from("=I", data, k)[0]
            elif code == 0x00:  # ld #k
                a = k
            elif code == 0x60:  # ld M[k]
                a = mem[k]
            else:
                raise ValueError(f"unsupported ld {code:#x}")
        elif cls == 0x01:  # BPF_LDX
            x = mem[k] if code == 0x61 else k
        elif cls == 0x02:  # st
            mem[k] = a
        elif cls == 0x03:  # stx
            mem[k] = x
        elif cls == 0x04:  # BPF_ALU
            op, src = code & 0xF0, (x if code & 0x08 else k)
            a = {0x00: a + src, 0x10: a - src, 0x20: a * src, 0x50: a & src,
                 0x40: a | src, 0x60: a << src, 0x70: a >> src, 0xA0: a ^ src,
                 0x80: (-a)}.get(op, a) & 0xFFFFFFFF
        elif cls == 0x05:  # BPF_JMP
            op, src = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:
                pc += k
            else:
                cond = {0x10: a == src, 0x20: a > src, 0x30: a >= src,
                        0x40: bool(a & src)}[op]
                pc += jt if cond else jf
        elif cls == 0x06:  # BPF_RET
            return a if code & 0x10 else k
        elif cls == 0x07:  # tax / txa
            if code == 0x07:
                x = a
            else:
                a = x
        pc += 1
    raise ValueError("filter fell off its end")
