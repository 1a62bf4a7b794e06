"""The attack catalogue: one test per attack, run from inside a sandbox by
progs/attack.c. Each asserts that the boundary held (no host secret in any output, no
"ESCAPE" line, the errno a confined process must get) and, through `host_guard`, that
the host was left untouched."""

from __future__ import annotations

import os
import signal
import sys
import subprocess

import pytest

from tests.conftest import Result, do_args, run_do, run_native, sandvisor_cmd
from tests.security.conftest import (alive, assert_held, comm, descendants, finish,
                                     results, run_sandbox, start_do, wait_for)

pytestmark = pytest.mark.usefixtures("host_guard")


def attack(root, secret, name, *args, extra=(), timeout=90, input=None):
    return run_sandbox(root, ["/bin/attack", name, str(secret.path), *map(str, args)],
                       *extra, timeout=timeout, input=input)


def all_failed(res, prefix="", allowed=("EPERM",)):
    got = {k: v for k, v in results(res).items() if k.startswith(prefix)}
    assert got, res.stdout + res.stderr
    bad = {k: v for k, v in got.items() if v not in allowed}
    assert not bad, bad
    return got


# ---------------------------------------------------------------- path escapes

def test_dotdot_escape_enoent(sec_root, secret):
    res = attack(sec_root, secret, "dotdot")
    assert_held(res, secret)
    assert res.returncode == 0
    got = results(res)
    assert all(v == "ENOENT" for v in got.values()), got
    assert len(got) == 13 and "cwd_after_chdir_up=/\n" in res.stdout


def test_symlink_escape_resolves_inside(sec_root, secret):
    res = attack(sec_root, secret, "symlink")
    assert_held(res, secret)
    got = results(res)
    for k in ("via_abs", "via_rel", "via_updir", "via_chain", "via_opath_magic"):
        assert got[k] == "ENOENT", (k, got)
    assert got["loop"] == "ELOOP"


def test_magic_links_stay_inside(sec_root, secret):
    res = attack(sec_root, secret, "magiclinks")
    assert_held(res, secret)
    got = results(res)
    for k in ("proc_self_root", "proc_1_root", "proc_thread_self_root", "proc_self_cwd",
              "proc_fd_dir", "openat_procfd_root", "openat_procfd_up"):
        assert got[k] == "ENOENT", (k, got)
    assert "readlink_root=/\n" in res.stdout
    # init's descriptors: stdio and its status pipe only, nothing of the sentry or gofer
    fds = [line for line in res.stdout.splitlines() if line.startswith("init_fd")]
    assert all("socket" not in line and "/" not in line.split("=", 1)[1].replace("/dev/null", "")
               for line in fds), fds


def test_rename_race_dotdot_enoent(sec_root, secret):
    res = attack(sec_root, secret, "rename_race", 400)
    assert_held(res, secret)
    assert "rename_race opened=0 " in res.stdout, res.stdout


SWAP_OPS = ["open", "openat2", "stat", "xattr", "readlink", "modify", "create", "remove",
            "chdir", "exec"]


@pytest.mark.parametrize("op", SWAP_OPS)
def test_symlink_swap_race_during_path_syscall_stays_inside(sec_root, secret, op):
    """A thread swaps /tmp/d between a directory inside and the secret's host directory
    (by symlink and by RENAME_EXCHANGE) while the main thread runs the syscalls of `op`
    on /tmp/d/...: reads see the decoy only, writes reach the decoy only."""
    res = attack(sec_root, secret, "swap", op, secret.rel_dir, secret.ino, 300)
    assert_held(res, secret)
    assert f"swap {op} " in res.stdout and "escapes=0" in res.stdout, res.stdout[-2000:]


def test_very_long_paths_enametoolong(sec_root, secret):
    res = attack(sec_root, secret, "longpath")
    assert_held(res, secret)
    got = results(res)
    for k in ("path_5000", "slashes_5000", "name_256", "dotdot_4k", "dotdot_8k",
              "stat_huge_unmapped_len", "symlink_4096"):
        assert got[k] == "ENAMETOOLONG", (k, got)
    assert got["slashes_4094"] == "ok" and got["deep_escape"] == "ENOENT"
    assert got["symlink_4095"] == "ok" and "readlink_4095 ret=4095 " in res.stdout


def test_non_utf8_paths_work_and_stay_inside(sec_root, secret):
    res = attack(sec_root, secret, "nonutf8")
    assert_held(res, secret)
    assert res.returncode == 0 and "nonutf8 done" in res.stdout
    got = results(res)
    for i in range(6):
        assert got[f"create{i}"] == "ok" and got[f"reopen{i}"] == "ok", got
        assert got[f"escape{i}"] in ("ENOENT", "ENOTDIR"), got
    assert got["setxattr_weird"] in ("ok", "EOPNOTSUPP")


def test_paths_straddling_unmapped_memory_efault(sec_root, secret):
    res = attack(sec_root, secret, "unmapped")
    assert_held(res, secret)
    assert "unmapped done" in res.stdout
    got = results(res)
    straddle = {k: v for k, v in got.items() if "straddle" in k or "_bad" in k}
    assert len(straddle) == 31 and set(straddle.values()) == {"EFAULT"}, straddle
    assert got["open_exact"] == "ok" and got["stat_exact"] == "ok"


def test_paths_in_prot_none_memory_efault(sec_root, secret):
    res = attack(sec_root, secret, "protnone")
    assert_held(res, secret)
    got = results(res)
    assert set(got.values()) == {"EFAULT"}, got


# ----------------------------------------------------------- descriptor tricks

def test_open_by_handle_at_denied(sec_root, secret):
    res = attack(sec_root, secret, "handle")
    assert_held(res, secret)
    all_failed(res)


def _with_host_pids(sec_root, secret, name, *args):
    """Run an attack that reads the host pids (sentry, gofer, this test, a host sleeper)
    on stdin, once the sandbox is up."""
    sleeper = subprocess.Popen(["sleep", "120"])
    try:
        proc = start_do(["--root", str(sec_root), "--timeout", "60", "--",
                         "/bin/attack", name, str(secret.path), *args])
        assert wait_for(lambda: any(comm(p) == "sv-gofer" for p in descendants(proc.pid)))
        gofer = next(p for p in descendants(proc.pid) if comm(p) == "sv-gofer")
        pids = f"{proc.pid} {gofer} {os.getpid()} {sleeper.pid}\n".encode()
        res = finish(proc, input=pids)
        assert alive([sleeper.pid]) == {sleeper.pid}, "the host sleeper was killed"
        return res, (proc.pid, gofer, os.getpid(), sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_proc_pid_of_sentry_and_gofer_enoent(sec_root, secret):
    res, pids = _with_host_pids(sec_root, secret, "sentry_proc")
    assert_held(res, secret)
    opens = [line for line in res.stdout.splitlines() if " open=" in line]
    assert len(opens) == 60 and all("errno=ENOENT" in line for line in opens), opens
    assert results(res)["host_pid_root_secret"] == "ENOENT"


def test_scm_rights_fds_stay_inside(sec_root, secret):
    res = attack(sec_root, secret, "scm_rights")
    assert_held(res, secret)
    got = results(res)
    for k, v in got.items():
        if k.startswith(("openat_up", "magic_up", "openat_root", "fchdir_up")):
            assert v in ("ENOENT", "ENOTDIR"), (k, v)
    assert got["stat_sock_inside"] == "ok"  # the unix socket bound by a ../ path is inside


def test_linkat_gives_a_held_host_file_no_name_inside(sec_root, secret, security_progs,
                                                     tmp_path):
    """The application holds a host file from outside the root (its stdin). A link
    through /proc/self/fd/0 or AT_EMPTY_PATH would give it a name inside, reachable
    by path: the kernel links nothing across mounts (EXDEV) and every mount of the
    view is the sandbox's own, even a volume of the file's own directory. Natively,
    on the same filesystem, both links are made: the attempt is a real one."""
    native_dir = tmp_path / "native"
    native_dir.mkdir()
    held = native_dir / "held"
    held.write_text("held")
    with open(held) as stdin:
        native = subprocess.run([str(security_progs["attack"]), "link_held", "/nonexistent",
                                 str(native_dir)], stdin=stdin, capture_output=True,
                                text=True, timeout=60)
    got = results(native)
    assert got["vol_follow"] == got["vol_empty"] == "ok", native.stdout
    with open(secret.path) as stdin:
        proc = subprocess.run(
            sandvisor_cmd() + do_args(["--root", str(sec_root), "-v", f"{secret.dir}:/vol",
                                       "--timeout", "60", "--", "/bin/attack", "link_held",
                                       str(secret.path), "/vol"]),
            stdin=stdin, capture_output=True, text=True, timeout=90, cwd="/tmp")
    res = Result(proc.returncode, proc.stdout, proc.stderr)
    assert_held(res, secret)
    got = results(res)
    assert got == {"vol_follow": "EXDEV", "vol_empty": "EXDEV", "rw_follow": "EXDEV",
                   "rw_empty": "EXDEV", "reopen_vol": "ENOENT"}, res.stdout + res.stderr
    assert sorted(os.listdir(secret.dir)) == ["evil.sh", "secret"]
    assert os.stat(secret.path).st_nlink == 1


def test_proc_fd_of_a_deleted_host_file_does_not_reopen_it(sec_root, security_progs,
                                                         tmp_path):
    """stdin is a host file, given read-only and deleted since: its /proc/self/fd/0 link
    names no path. Linux reopens such a link by object, and natively root does so for
    writing (the attempt is a real one). In the sandbox a deleted file is reopened by
    object only when it lies on a mount of the view (a file the application made and
    deleted itself is); the host file's link is followed by its text, which names
    nothing inside."""
    held = tmp_path / "held"
    held.write_text("held")
    with open(held) as stdin:
        held.unlink()
        native = subprocess.run([str(security_progs["attack"]), "reopen_deleted"],
                                stdin=stdin, capture_output=True, text=True, timeout=60)
        assert "reopen_held_rw ret=" in native.stdout and \
            results(native)["reopen_held_rw"] == "ok", native.stdout
    with open(tmp_path / "again", "w+") as stdin:
        stdin.write("held")
        stdin.flush()
        os.unlink(tmp_path / "again")
        ro = os.open(f"/proc/self/fd/{stdin.fileno()}", os.O_RDONLY)
        try:
            proc = subprocess.run(
                sandvisor_cmd() + do_args(["--root", str(sec_root), "--timeout", "60", "--",
                                           "/bin/attack", "reopen_deleted"]),
                stdin=ro, capture_output=True, text=True, timeout=90, cwd="/tmp")
        finally:
            os.close(ro)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
        got = results(res)
        # ENOENT: the VFS followed the text (Landlock would say EACCES, were it reopened)
        assert got["reopen_held_rw"] == "ENOENT", res.stdout + res.stderr
        assert got["reopen_held_ro"] != "ok" and "write_held" not in got, res.stdout
        assert got["reopen_own"] == "ok" and "reopen_own data=[mine]" in res.stdout, \
            res.stdout + res.stderr
        stdin.seek(0)
        assert stdin.read() == "held"


def test_racing_a_proc_open_does_not_reopen_a_held_host_file(sec_root, security_progs,
                                                            tmp_path):
    """A /proc open is answered by CONTINUE: the kernel reads the path again, and a
    second thread can rewrite it to /proc/self/fd/0 in between, which the kernel
    reopens by object, a read-only host file for writing (root's DAC override). Landlock
    keeps the application to files beneath its view (sentry/init.py). Natively, and
    without Landlock, the race is won at once."""
    held = tmp_path / "held"
    held.write_text("native\n")
    held.chmod(0o444)
    with open(held) as stdin:
        native = subprocess.run([str(security_progs["attack"]), "reopen_race", "/nonexistent",
                                 "200000"], stdin=stdin, capture_output=True, text=True,
                                timeout=60)
    assert "race won=1" in native.stdout, native.stdout
    held.chmod(0o644)
    held.write_text("held\n")
    held.chmod(0o444)
    with open(held) as stdin:
        proc = subprocess.run(
            sandvisor_cmd() + do_args(["--root", str(sec_root), "--timeout", "60", "--",
                                       "/bin/attack", "reopen_race", "/nonexistent", "20000"]),
            stdin=stdin, capture_output=True, text=True, timeout=90, cwd="/tmp")
    res = Result(proc.returncode, proc.stdout, proc.stderr)
    assert "race won=0" in res.stdout, res.stdout + res.stderr
    # the rewrite did land (refused by Landlock), and the other opens went through
    counts = dict(kv.split("=") for kv in res.stdout.split("race ", 1)[1].split())
    assert int(counts["refused"]) > 0 and int(counts["opened"]) > 0, res.stdout
    assert held.read_text() == "held\n"


def test_dev_nodes_are_the_hosts_and_stay_unchanged():
    """/dev/null, /dev/zero... in the view are binds of the host's own nodes: a chmod,
    chown or utimes through them changed the host's /dev/null. They are read-only
    mounts now (EROFS), and writing and reading the devices still works."""
    before = {name: os.stat(f"/dev/{name}") for name in ("null", "zero", "tty")
              if os.path.exists(f"/dev/{name}")}
    script = ("for n in null zero tty; do chmod 000 /dev/$n; chown 1:1 /dev/$n; "
              "touch -d 2001-01-01 /dev/$n; done 2>/dev/null; "
              "echo x > /dev/null && head -c 2 /dev/zero | wc -c")
    res = run_do(["--", "sh", "-c", script])
    assert res.stdout.split() == ["2"], res.stdout + res.stderr
    for name, st in before.items():
        now = os.stat(f"/dev/{name}")
        assert (now.st_mode, now.st_uid, now.st_gid, now.st_mtime) == \
            (st.st_mode, st.st_uid, st.st_gid, st.st_mtime), name


def test_init_memory_not_writable(sec_root, secret):
    """init (pid 1 in the sandbox) runs without the seccomp filter and with every
    capability; writing its memory would run unfiltered, privileged code."""
    res = attack(sec_root, secret, "init_mem")
    assert_held(res, secret)
    assert results(res).get("open_init_mem_rw") in ("EACCES", "EPERM", "ENOENT"), res.stdout


def test_init_status_pipe_cannot_be_spoofed(sec_root, secret):
    res = attack(sec_root, secret, "init_fds")
    assert_held(res, secret)
    assert res.returncode == 42, res.stdout + res.stderr
    assert "wrote a fake status" not in res.stdout


# -------------------------------------------------------------- process tricks

def test_ptrace_denied(sec_root, secret):
    res, _ = _with_host_pids(sec_root, secret, "ptrace")
    assert_held(res, secret)
    got = results(res)
    for k, v in got.items():
        if k.startswith(("attach", "seize", "traceme", "pidfd_getfd")):
            assert v == "EPERM", (k, v)


def test_process_vm_writev_on_sentry_denied(sec_root, secret):
    res, _ = _with_host_pids(sec_root, secret, "process_vm")
    assert_held(res, secret)
    all_failed(res, allowed=("EPERM", "ESRCH"))


def test_kill_host_pids_esrch(sec_root, secret):
    res, _ = _with_host_pids(sec_root, secret, "kill")
    assert_held(res, secret)
    assert "still alive" in res.stdout and res.returncode == 0
    got = results(res)
    for k, v in got.items():
        if "host" in k:
            assert v == "ESRCH", (k, v)


def test_prctl_cannot_raise_privileges(sec_root, secret):
    res = attack(sec_root, secret, "prctl")
    assert_held(res, secret)
    got = results(res)
    for k in ("ambient_raise_sys_admin", "no_new_privs_off", "set_mm_start_code", "set_mm_exe",
              "capset_all", "seccomp_allow_all", "seccomp_listener", "mount_after",
              "unshare_after"):
        assert got[k] in ("EPERM", "EINVAL"), (k, got[k])
    assert "NoNewPrivs:\t1" in res.stdout and "Seccomp:\t2" in res.stdout
    eff = int(next(line for line in res.stdout.splitlines() if line.startswith("CapEff")).split()[1], 16)
    assert not eff & (1 << 21) and not eff & (1 << 19)  # no CAP_SYS_ADMIN, no CAP_SYS_PTRACE


def test_personality_denied(sec_root, secret):
    # the query and PER_LINUX32 (Docker's profile allows them too); nothing that changes
    # how memory is mapped (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ADDR_LIMIT_32BIT)
    res = attack(sec_root, secret, "personality")
    assert_held(res, secret)
    got = results(res)
    assert (got["query"], got["linux32"]) == ("ok", "ok"), got
    for name in ("read_implies_exec", "addr_no_randomize", "addr_limit_32bit"):
        assert got[name] in ("EPERM", "ENOSYS"), got
    assert "personality_now=00000008" in res.stdout


# ------------------------------------------------------------- kernel surfaces

@pytest.mark.parametrize("name", ["io_uring", "bpf", "userfaultfd", "perf", "keyctl", "add_key",
                                  "mount", "unshare"])
def test_kernel_surface_denied(sec_root, secret, name):
    res = attack(sec_root, secret, name)
    assert_held(res, secret)
    all_failed(res, allowed=("EPERM", "ENOENT") if name in ("userfaultfd", "mount") else ("EPERM",))


def test_clone_with_new_namespaces_eperm(sec_root, secret):
    res = attack(sec_root, secret, "clone_ns")
    assert_held(res, secret)
    got = all_failed(res, allowed=("EPERM", "ENOSYS"))
    assert len(got) == 9


def test_raw_sockets_cannot_reach_the_host(sec_root, secret):
    host_ip = _host_ip()
    res = attack(sec_root, secret, "raw_socket", host_ip)
    assert_held(res, secret)
    got = results(res)
    for k in ("raw_send_host", "raw_ip_send_host", "tcp_connect_host"):
        if k in got:
            assert got[k] in ("ENETUNREACH", "EPERM"), (k, got[k])


def test_packet_socket_sees_only_private_loopback(sec_root, secret):
    host_if = next(n for n in sorted(os.listdir("/sys/class/net")) if n != "lo")
    res = attack(sec_root, secret, "packet", host_if)
    assert_held(res, secret)
    assert "host_if_index=0" in res.stdout
    ifaces = [line for line in res.stdout.splitlines() if line.startswith(("iface=", "netdev"))]
    assert all("lo" in line.split("=", 1)[-1].split(":")[0] for line in ifaces), ifaces
    assert results(res).get("packet_bind_if2") in (None, "ENODEV", "EPERM")


def test_netlink_sees_only_loopback_and_cannot_add_links(sec_root, secret):
    res = attack(sec_root, secret, "netlink")
    assert_held(res, secret)
    if results(res)["netlink_route"] != "ok":  # netlink refused altogether: held
        assert results(res)["netlink_route"] in ("EPERM", "EAFNOSUPPORT"), res.stdout
        return
    links = [line for line in res.stdout.splitlines() if line.startswith("link=")]
    assert links == ["link=lo"], links
    assert "newlink errno=EPERM" in res.stdout


def _host_ip() -> str:
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return out[0] if out else "192.0.2.1"


# ---------------------------------------------------------------- ABI tricks

def test_i386_int80_killed(sec_root, secret):
    res = attack(sec_root, secret, "i386")
    assert_held(res, secret)
    assert res.returncode == 128 + signal.SIGSYS, (res.returncode, res.stdout)


def test_x32_syscall_killed(sec_root, secret):
    res = attack(sec_root, secret, "x32")
    assert_held(res, secret)
    assert res.returncode == 128 + signal.SIGSYS, (res.returncode, res.stdout)


def test_vsyscall_page_harmless(sec_root, secret):
    res = attack(sec_root, secret, "vsyscall")
    assert_held(res, secret)
    # the legacy entry points either work (emulated by the kernel, through the filter)
    # or fault; a jump into the middle of the page always faults
    assert res.returncode == 128 + signal.SIGSEGV, (res.returncode, res.stdout)


# ----------------------------------------------------------------- TOCTOU

def test_toctou_pointer_rewrite_from_second_thread(sec_root, secret, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep").write_text("KEEP")
    res = attack(sec_root, secret, "toctou", secret.script, 300,
                 extra=("-v", f"{ro}:/ro:ro"))
    assert_held(res, secret)
    assert "toctou opened=" in res.stdout and "escapes=0" in res.stdout, res.stdout[-2000:]
    assert (ro / "keep").read_text() == "KEEP"


# ------------------------------------------------------------- resource attacks

def test_fork_bomb_contained_by_pids_limit(sec_root, secret):
    proc = start_do(["--root", str(sec_root), "--timeout", "60", "--pids-limit", "64", "--",
                     "/bin/attack", "forkbomb"])
    res = finish(proc, timeout=120)
    assert_held(res, secret)
    assert "forkbomb contained" in res.stdout and "failures=1" in res.stdout, res.stdout
    assert res.returncode == 0
    assert not alive(descendants(proc.pid))


def test_notification_flood_from_200_threads_completes(sec_root, secret):
    res = attack(sec_root, secret, "flood", timeout=120)
    assert_held(res, secret)
    assert "flood threads=200 calls=40000 errors=0" in res.stdout, res.stdout + res.stderr


def test_fd_exhaustion_emfile_and_recovers(sec_root, secret):
    res = attack(sec_root, secret, "fds")
    assert_held(res, secret)
    got = results(res)
    assert got["raise_nofile"] == "EPERM"
    assert "stop=EMFILE" in res.stdout and "emfile=300" in res.stdout, res.stdout
    assert got["stat_while_full"] == "ok" and got["open_after"] == "ok"
    assert "root:x:0:0" in res.stdout


@pytest.mark.parametrize("mode", ["argv", "env", "one_huge", "many"])
def test_huge_argv_env_same_as_native(sec_root, secret, security_progs, mode):
    """execve with 1 MiB of arguments (or environment; or one 200 KiB string, over
    MAX_ARG_STRLEN; or 65536 short ones) gives the same result as natively."""
    native = run_native([str(security_progs["attack"]), "bigargs", "x", mode])
    res = attack(sec_root, secret, "bigargs", mode)
    assert_held(res, secret)
    assert res.stdout == native.stdout, (res.stdout, native.stdout, res.stderr)


# ------------------------------------------------- more privileged host surfaces

def test_mknod_host_devices_denied(sec_root, secret):
    res = attack(sec_root, secret, "mknod")
    assert_held(res, secret)
    got = results(res)
    assert all(v == "EPERM" for k, v in got.items() if k.startswith("mknod")), got
    assert all(v == "ENOENT" for k, v in got.items() if k.startswith("open")), got


def test_host_sysctls_not_writable(sec_root, secret):
    """/proc/sys is the host's: writing kernel.core_pattern as root is a host escape (a
    piped core_pattern runs as root on the host). The attack writes back the current
    values, so the host is unchanged either way."""
    res = attack(sec_root, secret, "sysctl")
    assert_held(res, secret)
    got = results(res)
    assert all(v != "ok" for k, v in got.items() if k.startswith("write")), got


def test_tiocsti_cannot_inject_into_host_terminal(sec_root, secret):
    import fcntl
    import select
    import termios
    import time

    master, slave = os.openpty()

    def ctty():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable,
                             "-m", "sentry", "do", "--root", str(sec_root), "--timeout", "30",
                             "--", "/bin/attack", "tiocsti"],
                            stdin=slave, stdout=slave, stderr=slave, preexec_fn=ctty, cwd="/tmp")
    out = b""
    end = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.2)[0]:
                out += os.read(master, 4096)
        proc.wait(timeout=30)
        while select.select([master], [], [], 0.2)[0]:
            try:
                out += os.read(master, 4096)
            except OSError:
                break
        # what is left in the terminal's input queue is what the host shell reads next
        os.set_blocking(slave, False)
        try:
            left = os.read(slave, 4096)
        except BlockingIOError:
            left = b""
    finally:
        os.close(master)
        os.close(slave)
    assert secret.token.encode() not in out
    assert b"INJECTED" not in left, left
