"""The application's seccomp filter, run through a BPF interpreter."""

import errno

import pytest

from sentry import ffi
from sentry.platform import bpf
from syscalls.table import NUMBERS, TABLE, Disposition

X86_64 = ffi.AUDIT_ARCH_X86_64
ACTIONS = {Disposition.HOST: bpf.SECCOMP_RET_ALLOW, Disposition.EMULATE: bpf.SECCOMP_RET_USER_NOTIF}


@pytest.fixture(scope="module")
def prog():
    return bpf.compile_filter("notify")


def test_filter_starts_with_the_arch_check(prog):
    # first instruction loads seccomp_data.arch (offset 4), the second compares it
    code, _jt, _jf, k = bpf._INSN.unpack_from(prog, 0)
    assert (code, k) == (0x20, 4)
    code, _jt, _jf, k = bpf._INSN.unpack_from(prog, 8)
    assert code & 0x07 == 0x05 and k == X86_64


def test_i386_syscalls_kill_the_process(prog):
    for nr in (1, 3, 5, 11, 120):
        assert bpf.evaluate(prog, nr, ffi.AUDIT_ARCH_I386) == bpf.SECCOMP_RET_KILL_PROCESS


def test_x32_syscalls_kill_the_process(prog):
    for nr in (0, 1, 2, 59, 257, 512, 545):
        assert bpf.evaluate(prog, nr | ffi.X32_SYSCALL_BIT, X86_64) == bpf.SECCOMP_RET_KILL_PROCESS


def test_every_entry_gets_its_disposition(prog):
    for entry in TABLE.values():
        if entry.arg_rules:
            continue  # decided by their arguments: tested one by one below
        got = bpf.evaluate(prog, entry.nr, X86_64)
        if entry.disposition is Disposition.DENY:
            assert got == bpf.SECCOMP_RET_ERRNO | entry.errno, entry.name
        else:
            assert got == ACTIONS[entry.disposition], entry.name


def test_unknown_syscalls_fail_with_enosys(prog):
    for nr in (470, 511, 1000, 0x3FFFFFFF):
        assert bpf.evaluate(prog, nr, X86_64) == bpf.SECCOMP_RET_ERRNO | errno.ENOSYS


def test_clone_with_namespace_flags_is_refused(prog):
    clone = NUMBERS["clone"]
    for flag in (ffi.CLONE_NEWNS, ffi.CLONE_NEWUSER, ffi.CLONE_NEWPID, ffi.CLONE_NEWNET):
        assert bpf.evaluate(prog, clone, X86_64, (flag | 0x11,)) == \
            bpf.SECCOMP_RET_ERRNO | errno.EPERM
    assert bpf.evaluate(prog, clone, X86_64, (0x01200011,)) == bpf.SECCOMP_RET_ALLOW  # fork()


def test_trap_host_traps_host_syscalls_but_not_the_handover():
    prog = bpf.compile_filter("notify", trap_host=True)
    assert bpf.evaluate(prog, NUMBERS["read"], X86_64) == bpf.SECCOMP_RET_USER_NOTIF
    sendmsg = NUMBERS["sendmsg"]
    assert bpf.evaluate(prog, sendmsg, X86_64, (3, 0, 0)) == bpf.SECCOMP_RET_USER_NOTIF
    assert bpf.evaluate(prog, sendmsg, X86_64, (3, 0, bpf.HANDOVER_SENDMSG_FLAGS)) == \
        bpf.SECCOMP_RET_ALLOW


def test_guarded_host_syscalls_are_trapped_and_keep_their_arg_rules():
    prog = bpf.compile_filter("notify", guarded=frozenset({"clone", "fork"}))
    clone = NUMBERS["clone"]
    assert bpf.evaluate(prog, NUMBERS["fork"], X86_64) == bpf.SECCOMP_RET_USER_NOTIF
    assert bpf.evaluate(prog, clone, X86_64, (0x01200011,)) == bpf.SECCOMP_RET_USER_NOTIF
    assert bpf.evaluate(prog, clone, X86_64, (ffi.CLONE_NEWUSER | 0x11,)) == \
        bpf.SECCOMP_RET_ERRNO | errno.EPERM                  # still refused outright
    assert bpf.evaluate(prog, NUMBERS["vfork"], X86_64) == bpf.SECCOMP_RET_ALLOW
    assert bpf.compile_filter("notify") != prog


def test_trace_mode_uses_ret_trace():
    prog = bpf.compile_filter("trace")
    assert bpf.evaluate(prog, NUMBERS["openat"], X86_64) & bpf.SECCOMP_RET_ACTION_FULL == \
        bpf.SECCOMP_RET_TRACE


@pytest.mark.parametrize("domain,kind,expected", [
    (2, 1, bpf.SECCOMP_RET_ALLOW), (2, 2 | 0x80000, bpf.SECCOMP_RET_ALLOW),   # inet, +CLOEXEC
    (1, 5, bpf.SECCOMP_RET_ALLOW), (16, 2, bpf.SECCOMP_RET_ALLOW),             # unix, netlink
    (2, 3, bpf.SECCOMP_RET_ERRNO | errno.EPERM),                                 # raw
    (17, 2, bpf.SECCOMP_RET_ERRNO | errno.EPERM),                                # packet
    (17, 3, bpf.SECCOMP_RET_ERRNO | errno.EPERM),
])
def test_socket_refuses_raw_and_packet_sockets(prog, domain, kind, expected):
    assert bpf.evaluate(prog, NUMBERS["socket"], X86_64, (domain, kind, 0)) == expected


@pytest.mark.parametrize("request_,expected", [
    (0x5401, bpf.SECCOMP_RET_ALLOW), (0x5413, bpf.SECCOMP_RET_ALLOW),      # TCGETS, TIOCGWINSZ
    (0x541B, bpf.SECCOMP_RET_ALLOW), (0x5410, bpf.SECCOMP_RET_ALLOW),
    (0xC0502100, bpf.SECCOMP_RET_ALLOW), (0, bpf.SECCOMP_RET_ALLOW),
    (0x5412, bpf.SECCOMP_RET_ERRNO | errno.EPERM),                         # TIOCSTI
    (0x1_0000_5412, bpf.SECCOMP_RET_ERRNO | errno.EPERM),                  # upper half ignored
    (0x541C, bpf.SECCOMP_RET_ERRNO | errno.EPERM),                         # TIOCLINUX
])
def test_ioctl_refuses_terminal_injection(prog, request_, expected):
    assert bpf.evaluate(prog, NUMBERS["ioctl"], X86_64, (0, request_, 0)) == expected


def test_ioctl_allows_every_other_request_in_a_sample(prog):
    import random
    rng = random.Random(7)
    for _ in range(40):
        req = rng.getrandbits(32)
        if req & 0xFFFFFFFF not in (0x5412, 0x541C):
            assert bpf.evaluate(prog, NUMBERS["ioctl"], X86_64, (0, req, 0)) == bpf.SECCOMP_RET_ALLOW


def test_fstat_runs_on_the_host_and_path_stats_are_trapped(prog):
    newfstatat = NUMBERS["newfstatat"]
    assert bpf.evaluate(prog, newfstatat, X86_64, (3, 0, 0, 0x1000)) == bpf.SECCOMP_RET_ALLOW
    assert bpf.evaluate(prog, newfstatat, X86_64, (3, 0, 0, 0x1100)) == bpf.SECCOMP_RET_ALLOW
    assert bpf.evaluate(prog, newfstatat, X86_64, (-100 & 0xFFFFFFFF, 0, 0, 0)) == \
        bpf.SECCOMP_RET_USER_NOTIF
    assert bpf.evaluate(prog, newfstatat, X86_64, (3, 0, 0, 0x100)) == bpf.SECCOMP_RET_USER_NOTIF


def test_utimensat_on_a_descriptor_runs_on_the_host_and_with_a_path_is_trapped(prog):
    utimensat = NUMBERS["utimensat"]
    assert bpf.evaluate(prog, utimensat, X86_64, (3, 0, 0x7FFD0000, 0)) == bpf.SECCOMP_RET_ALLOW
    for path in (0x7FFD0000, 0x7FFD00000000, 1 << 63):   # all 64 bits compared
        assert bpf.evaluate(prog, utimensat, X86_64, (3, path, 0, 0)) == \
            bpf.SECCOMP_RET_USER_NOTIF


def test_compiled_programs_are_cached_on_disk_and_untrusted_caches_ignored(tmp_path, monkeypatch):
    import os
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(bpf, "_cache", {})
    fresh = bpf._compile("notify", False, frozenset())
    assert bpf.compile_filter("notify") == fresh                  # compiled, then stored
    stored = list((tmp_path / "sandvisor" / "bpf").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == fresh
    assert oct(stored[0].stat().st_mode & 0o777) == "0o600"
    # the cache is used as it is only while nobody but its owner can write it
    allow_all = bpf._INSN.pack(0x06, 0, 0, bpf.SECCOMP_RET_ALLOW)
    stored[0].write_bytes(allow_all)
    monkeypatch.setattr(bpf, "_cache", {})
    assert bpf.compile_filter("notify") == allow_all              # owner-only: used
    os.chmod(stored[0], 0o666)
    monkeypatch.setattr(bpf, "_cache", {})
    assert bpf.compile_filter("notify") == fresh                  # world-writable: ignored
    os.chmod(stored[0], 0o600)
    os.chmod(stored[0].parent, 0o777)
    monkeypatch.setattr(bpf, "_cache", {})
    assert bpf.compile_filter("notify") == fresh                  # writable directory: ignored


def test_cache_key_follows_the_filter_sources(tmp_path, monkeypatch):
    """The cache is keyed on the bytes of table.py and bpf.py: an edit to either is a
    new key (a stale program is never loaded), and an unreadable source is no cache."""
    copies = []
    for path in bpf.FILTER_SOURCES:
        copy = tmp_path / f"{len(copies)}.py"
        copy.write_bytes(open(path, "rb").read())
        copies.append(str(copy))
    monkeypatch.setattr(bpf, "FILTER_SOURCES", tuple(copies))
    key = ("notify", False, frozenset(), frozenset())
    before = bpf._fingerprint(key)
    assert before == bpf._fingerprint(key)
    assert bpf._fingerprint(("trace", False, frozenset(), frozenset())) != before
    for copy in copies:
        original = open(copy, "rb").read()
        with open(copy, "ab") as f:
            f.write(b"# edited\n")
        assert bpf._fingerprint(key) != before
        open(copy, "wb").write(original)
    assert bpf._fingerprint(key) == before
    (tmp_path / "0.py").unlink()
    assert bpf._fingerprint(key) is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(bpf, "_cache", {})
    assert bpf.compile_filter("notify") == bpf._compile("notify", False, frozenset())
    assert not (tmp_path / "cache").exists()      # nothing stored under no key


def test_filter_rows_are_written_out_in_table_py():
    """What the cache key hashes must be all the filter depends on: table.py takes
    only its handlers from other sandvisor modules (the filter compiles numbers,
    dispositions, errnos and argument rules, never a handler)."""
    import ast
    source = open(bpf.FILTER_SOURCES[0]).read()
    tree = ast.parse(source)
    ours = ("syscalls", "sentry", "gofer", "conformance", "bench")
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not [a.name for a in node.names if a.name.split(".")[0] in ours]
        elif isinstance(node, ast.ImportFrom) and node.module.split(".")[0] in ours:
            imported |= {alias.asname or alias.name for alias in node.names}
    emulated = next(node for node in tree.body if isinstance(node, ast.AnnAssign)
                    and node.target.id == "_EMULATED")
    pairs = [v.value if isinstance(v, ast.DictComp) else v        # (handler, note)
             for v in emulated.value.values]
    handlers = {id(n) for pair in pairs for n in ast.walk(pair.elts[0])}
    stray = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                    and n.id in imported and id(n) not in handlers})
    assert imported and not stray


def test_cached_filter_loads_without_importing_the_table(tmp_path):
    """Start-up imports the table while init sets up (Supervisor.run), which only
    works while a cached program needs no table to be found."""
    import subprocess
    import sys
    code = ("import sys; from sentry.platform import bpf; bpf.compile_filter('notify'); "
            "print('syscalls.table' in sys.modules)")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True, cwd=bpf._ROOT).stdout.strip()
            for _ in range(2)]
    assert runs == ["True", "False"]     # compiled (table imported), then from the cache
