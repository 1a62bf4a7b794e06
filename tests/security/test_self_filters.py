"""sandvisor's own processes locked down: the sentry's and the gofer's seccomp
allowlists (sentry/allowlist.py, gofer/allowlist.py) and the gofer's capabilities."""

from __future__ import annotations

import ctypes
import os
import signal

import pytest

from gofer import allowlist as gofer_allowlist
from sentry import allowlist as sentry_allowlist
from sentry import ffi, lockdown
from sentry.platform import bpf
from syscalls.table import TABLE
from tests.conftest import child_output
from tests.security.conftest import alive, comm, descendants, finish, start_do, wait_for

_NR = {e.name: e.nr for e in TABLE.values()}
_ARCH = ffi.AUDIT_ARCH_X86_64
_ALL_LISTS = {
    "gofer": gofer_allowlist.GOFER, "gofer-mounting": gofer_allowlist.MOUNTING,
    **{f"sentry-{name}": sentry_allowlist.sentry_rules(name) for name in ("unotify", "ptrace")},
    "sentry-oci": {**sentry_allowlist.sentry_rules("unotify"), **sentry_allowlist.OCI_EXTRAS},
}
# never needed once started; each one a way out of a sandbox
_NEVER = {"execve", "execveat", "fork", "vfork", "clone", "clone3", "mount", "umount2",
          "pivot_root", "unshare", "setns", "bpf", "perf_event_open", "io_uring_setup",
          "userfaultfd", "keyctl", "kexec_load", "init_module", "finit_module",
          "open_by_handle_at", "setuid", "setresuid", "setgid", "seccomp", "prctl",
          "ptrace", "fsopen", "open_tree", "move_mount", "socket", "connect"}
_EXCEPTIONS = {"sentry-ptrace": {"ptrace"},
               "sentry-oci": {"socket", "connect"},   # AF_UNIX only: the console socket
               "gofer-mounting": {"mount", "move_mount", "seccomp", "prctl"}}


def _caps(names) -> int:
    return ffi.cap_mask(names)


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


# --- the lists are valid data ---------------------------------------------------------
@pytest.mark.parametrize("which", sorted(_ALL_LISTS))
def test_allowlist_names_real_x86_64_syscalls(which):
    import pyseccomp
    for name, alts in _ALL_LISTS[which].items():
        assert name in _NR, f"{name} is not in the syscall table"
        assert pyseccomp.resolve_syscall(pyseccomp.Arch.X86_64, name) == _NR[name], name
        assert alts is None or all(
            all(len(cond) in (3, 4) and cond[0] in range(6) and cond[1] in ("eq", "masked_eq")
                for cond in alt) for alt in alts), (name, alts)


@pytest.mark.parametrize("which", sorted(_ALL_LISTS))
def test_allowlist_compiles_and_kills_everything_else(which):
    rules = _ALL_LISTS[which]
    prog = bpf.compile_allowlist(rules, lockdown.DEFAULT_ACTION)
    for name, alts in rules.items():
        if alts is None:
            assert bpf.evaluate(prog, _NR[name], _ARCH) == bpf.SECCOMP_RET_ALLOW, name
        else:
            for alt in alts:
                args = [0] * 6
                for index, _op, value, *_ in alt:
                    args[index] = value
                assert bpf.evaluate(prog, _NR[name], _ARCH, tuple(args)) == bpf.SECCOMP_RET_ALLOW
            other = [0] * 6
            other[alts[0][0][0]] = 0xDEAD
            assert bpf.evaluate(prog, _NR[name], _ARCH, tuple(other)) == \
                bpf.SECCOMP_RET_KILL_PROCESS, name
    for entry in TABLE.values():
        if entry.name not in rules:
            assert bpf.evaluate(prog, entry.nr, _ARCH) == bpf.SECCOMP_RET_KILL_PROCESS, entry.name
    assert bpf.evaluate(prog, _NR["read"], ffi.AUDIT_ARCH_I386) == bpf.SECCOMP_RET_KILL_PROCESS
    assert bpf.evaluate(prog, _NR["read"] | ffi.X32_SYSCALL_BIT, _ARCH) == \
        bpf.SECCOMP_RET_KILL_PROCESS


def test_allowlists_exclude_the_ways_out():
    for which, rules in _ALL_LISTS.items():
        assert set(rules) & _NEVER == _EXCEPTIONS.get(which, set()), which
    for name in ("process_vm_readv", "process_vm_writev", "kill", "pidfd_getfd", "socket"):
        assert name not in gofer_allowlist.GOFER, name
    assert lockdown.DEFAULT_ACTION == bpf.SECCOMP_RET_KILL_PROCESS


# --- in a forked child: the gofer's lock-down really holds --------------------------
class _FakeGofer:
    def __init__(self, cgroup_fds):
        self.cgroup_fds = cgroup_fds
        self.after_mounts = None


def _in_locked_child(cgroup_fds, body) -> tuple[int, bytes]:
    """Fork; the child locks itself down as a gofer would, runs body(gofer, report)
    and exits 0. Returns (wait status, what it reported)."""
    lock_down = lockdown.GoferLockdown()   # compiled before the fork, as in the runner

    def locked(report) -> None:
        gofer = _FakeGofer(cgroup_fds)
        lock_down(gofer)
        body(gofer, lambda text: report(text.encode() + b"\n"))

    return child_output(locked)


def _report_state(report) -> None:
    st = _status(os.getpid())
    report(f"{st['Seccomp']} {st['Seccomp_filters']} {st['CapEff']} {st['CapPrm']} {st['CapBnd']}")


_libc = ctypes.CDLL(None, use_errno=True)


def _forbidden_mount() -> None:
    _libc.mount(b"none", b"/", b"tmpfs", ctypes.c_ulong(0), None)


def test_gofer_filter_kills_a_syscall_outside_it():
    def body(gofer, report):
        _report_state(report)
        os.getpid()
        _forbidden_mount()
        report("survived")
    status, out = _in_locked_child({}, body)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, (status, out)
    mode, filters, eff, prm, bnd = out.decode().splitlines()[0].split()
    assert (mode, filters) == ("2", "1")
    keep = _caps(gofer_allowlist.CAPABILITIES)
    assert int(eff, 16) == int(prm, 16) == int(bnd, 16) == keep
    assert "survived" not in out.decode()


@pytest.mark.parametrize("call", ["ptrace", "execve", "socket", "kill", "unshare"])
def test_gofer_filter_kills_other_ways_out(call):
    libc = _libc
    calls = {"ptrace": lambda: libc.ptrace(16, 0x3FFFFFFF, 0, 0),  # no such pid: harmless
             "execve": lambda: os.execv("/bin/true", ["true"]),
             "socket": lambda: libc.socket(2, 1, 0),
             "kill": lambda: libc.kill(os.getppid(), 0),
             "unshare": lambda: libc.unshare(ffi.CLONE_NEWNS)}

    def body(gofer, report):
        calls[call]()
        report("survived")
    status, out = _in_locked_child({}, body)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, (call, status, out)


def test_gofer_mounts_then_locks_the_door():
    """With cgroup mounts to do it keeps mount and CAP_SYS_ADMIN until after_mounts."""
    def body(gofer, report):
        _report_state(report)
        gofer.after_mounts()
        _report_state(report)
        _forbidden_mount()
        report("survived")
    status, out = _in_locked_child({"memory": 99}, body)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, (status, out)
    first, second = (line.split() for line in out.decode().splitlines()[:2])
    assert first[:2] == ["2", "1"] and second[:2] == ["2", "2"]
    sys_admin = _caps(["CAP_SYS_ADMIN"])
    assert int(first[2], 16) & sys_admin and int(first[4], 16) & sys_admin
    keep = _caps(gofer_allowlist.CAPABILITIES)
    assert int(second[2], 16) == int(second[3], 16) == int(second[4], 16) == keep


# --- a live sandbox: both run filtered, a gofer killed by SIGSYS is reported ---------
def _live(extra=()):
    proc = start_do([*extra, "--timeout", "60", "--", "/bin/sh", "-c",
                     "echo ready; while cat /etc/passwd >/dev/null; do sleep 0.1; done; "
                     "echo file-ops-failed"])
    assert proc.stdout.readline() == b"ready\n", proc.stderr.read()
    assert wait_for(lambda: any(comm(q) == "sv-gofer" for q in descendants(proc.pid)))
    gofer = next(q for q in descendants(proc.pid) if comm(q) == "sv-gofer")
    return proc, gofer


@pytest.mark.parametrize("limits", [(), ("--pids-limit", "64")], ids=["plain", "cgroup"])
def test_sentry_and_gofer_run_under_their_filters(limits):
    proc, gofer = _live(limits)
    victims = descendants(proc.pid)
    try:
        sentry_st, gofer_st = _status(proc.pid), _status(gofer)
        assert sentry_st["Seccomp"] == "2" and sentry_st["Seccomp_filters"] == "1", sentry_st
        assert sentry_st["NoNewPrivs"] == "1"
        assert gofer_st["Seccomp"] == "2", gofer_st
        # with a cgroup to show inside, the mounting step came first, then the plain one
        assert gofer_st["Seccomp_filters"] == ("2" if limits else "1"), gofer_st
        keep = _caps(gofer_allowlist.CAPABILITIES)
        for field in ("CapEff", "CapPrm", "CapBnd"):
            assert int(gofer_st[field], 16) == keep, (field, gofer_st[field])
        assert int(gofer_st["CapInh"], 16) == 0 and int(gofer_st["CapAmb"], 16) == 0
        if os.path.exists(f"/proc/{proc.pid}/task"):
            for tid in os.listdir(f"/proc/{proc.pid}/task"):   # every thread (ptrace's tracer)
                with open(f"/proc/{proc.pid}/task/{tid}/status") as f:
                    assert "Seccomp:\t2" in f.read(), tid
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=60)
        for q in alive(victims):
            os.kill(q, signal.SIGKILL)


def test_gofer_killed_by_sigsys_is_reported_as_its_allowlist():
    """What the sentry says when the gofer's filter kills it (the signal sent here is the
    one the kernel sends: test_gofer_filter_kills_a_syscall_outside_it)."""
    proc, gofer = _live(("--file-access", "gofer"))
    victims = descendants(proc.pid)
    os.kill(gofer, signal.SIGSYS)
    res = finish(proc, timeout=60)
    assert res.returncode == 125, (res.returncode, res.stderr)
    assert "the gofer exited unexpectedly (killed by SIGSYS: a syscall outside its " \
           "allowlist, gofer/allowlist.py)" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert wait_for(lambda: not alive(victims), timeout=10), alive(victims)


def test_ptrace_tracer_polling_runs_under_the_sentry_filter():
    """The ptrace tracer's poll-before-sleep (sentry/platform/spin.py) looks at
    /proc/loadavg and its own affinity after the sentry has locked itself down: under
    that filter it must neither be killed nor be refused (a refusal reads as "no spare
    CPU", and the tracer would never poll)."""
    from sentry.platform import spin
    prog = lockdown.sentry_program("ptrace")

    def under_the_filter(report) -> None:
        lockdown.install(prog)
        try:
            fd = os.open("/proc/loadavg", os.O_RDONLY | os.O_CLOEXEC)
            seen = f"{spin.runnable_tasks(fd)} {len(os.sched_getaffinity(0))}"
            os.close(fd)
        except OSError as exc:
            seen = f"refused {exc}"
        polls = []
        # a window no poll outlasts: what is checked is the filter, not the timing
        waiter = spin.AdaptiveSpin(60 * 10**9, 60 * 10**9, spare_cpu=lambda: True)
        got = waiter.wait(lambda: polls.append(1) or (len(polls) > 2 or None),
                          lambda: "slept")
        report(f"{seen}|{got} {len(polls)}".encode())

    status, out = child_output(under_the_filter)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    out = out.decode()
    seen, waited = out.split("|")
    running, cpus = (int(v) for v in seen.split())    # "refused ..." fails here
    assert running >= 1 and cpus == len(os.sched_getaffinity(0))
    assert waited == "True 3"                           # polled until the event came
