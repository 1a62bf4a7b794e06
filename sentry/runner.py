"""Running one sandbox: gofer, init, application, and the sentry's event loop.

    sentry (this process)
      ├─ gofer   forked first; builds the view in its own mount namespace
      └─ init    pid 1 of a new pid namespace, in the gofer's mount namespace
           └─ application, under the platform's trap

Every process the sandbox starts dies with the sentry (PR_SET_PDEATHSIG); the
sandbox's exit status is the application's (128+N when killed by signal N), 124 on
--timeout, 125 for sandvisor's own failures.
"""

from __future__ import annotations

import errno
import os
import resource
import select
import signal
import socket
import sys
import time
import traceback
from typing import Callable
from dataclasses import dataclass

from gofer.client import DirectClient, GoferClient
from gofer.protocol import Creds, ROk, ShowCgroups, WalkOpen
from sentry.cgroups import Cgroup, CgroupError, SampledLimits
from sentry import ffi, userns
from sentry.child import fork_helper
from sentry.config import ConfigError, SandboxConfig
from sentry.events import CONTINUE, Error
from sentry.kernel import Kernel
from sentry.lockdown import lock_down_sentry
from sentry.platform import PlatformUnavailable, choose
from sentry.platform.bpf import compile_filter
from sentry.startup import start_collecting
from sentry.vfs import VFS

EXIT_TIMEOUT = 124
EXIT_SANDBOX_ERROR = 125
_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1,
              signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT)
_SI_KERNEL = 0x80
GOFER_GRACE = 2.0
# how long the end of init waits for what the application said just before (its
# sockets close as the pid namespace's processes are killed)
_LAST_WORD_MS = 200
_SENTRY_TASKS = 8   # rootless: the sentry's tasks under the sandbox's uid (RLIMIT_NPROC)


class SandboxError(Exception):
    """sandvisor itself failed; the message is one line for the user."""


@dataclass
class Outcome:
    """How a sandbox ended."""
    status: int                 # the exit status sandvisor reports
    exit_code: int | None       # the application's, if it exited
    signal: int | None          # the signal that killed it, if any
    reason: str = ""            # why sandvisor ended it (timeout, gofer failure, a limit)
    limit: str | None = None    # memory | pids | cpu | time | disk, when one was hit
    usage: dict | None = None

    def as_json(self) -> dict:
        return {"status": self.status, "exit_code": self.exit_code, "signal": self.signal,
                "reason": self.reason, "limit": self.limit, "usage": self.usage}


class _Logger:
    def __init__(self, path: str | None):
        self.file = open(path, "a", buffering=1) if path else None

    def __call__(self, msg: str) -> None:
        if self.file:
            self.file.write(f"{time.strftime('%H:%M:%S')} {msg}\n")


class Supervisor:
    """Starts one sandbox and serves it until its application ends."""
    allowlist_extras: dict = {}  # syscalls a subclass's loop needs beyond sentry/allowlist.py

    def __init__(self, cfg: SandboxConfig, tracers=()):
        cfg.check()
        self.cfg = cfg
        self.tracers = list(tracers)   # more kernel.trace hooks (learn mode, profile guard)
        if userns.needed() and not cfg.rootless:
            try:
                userns.enter(cfg.uid, cfg.gid)
            except userns.RootlessError as exc:
                raise SandboxError(str(exc)) from None
            cfg.rootless = True
        try:
            self.platform = choose(cfg.platform)
        except PlatformUnavailable as exc:
            raise SandboxError(str(exc)) from None
        self.debug = _Logger(cfg.debug_log)
        self.gofer_pid = self.init_pid = -1
        self.cgroup: Cgroup | None = None
        self.usage = None       # the application's resource usage, from init's wait4
        self.kernel: Kernel | None = None
        self.audit = None
        self.gofer_pidfd = self.init_pidfd = -1
        self.status_r = -1
        self.root_fd = -1           # --file-access direct: the root, until the kernel has it
        self.reason = ""
        self.deadline = time.monotonic() + cfg.timeout if cfg.timeout else None
        self.finished = False
        self.gofer_dead_at: float | None = None
        self.sigfd = None
        self.gate_w = -1            # cfg.gated: written once by start()
        self.trap_sock = None       # cfg.gated: the child reports readiness on it
        self.trap_parent = None     # init's end until its listener is attached
        self.readiness: str | None = None
        self.sampled = False        # rootless limits: sampled instead of a cgroup
        self.sampler: SampledLimits | None = None
        self.next_sample: float | None = None   # rootless memory limit: when to sample

    # -- lifecycle -------------------------------------------------------------
    def run(self) -> Outcome:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
        try:
            self._make_cgroup()
            if self.cfg.limits.cpus:
                # the sentry and the gofer too (they are outside the cgroup): a sentry on
                # another CPU than its caller pays a cross-CPU wake-up per trap
                os.sched_setaffinity(0, self.cfg.limits.cpus)
            self._start_gofer()
            # cached on disk, the filter comes without the syscall table's import
            bpf = compile_filter(self.platform.trap, self.cfg.strace, self.cfg.deny_syscalls,
                                 self._guarded())
            self._await_gofer()
            self._start_init(bpf)
            # While init and the application set up: the kernel, and with it the syscall
            # table and its handlers imported (~4 ms; before, it was a wait of its own)
            kernel = self._kernel()
            self._attach_init()
            if self.cgroup is not None:
                resp, _fd = kernel.gofer.call(ShowCgroups(Creds()))
                if not isinstance(resp, ROk):
                    raise SandboxError(f"cannot show the sandbox's cgroups inside: {resp}")
            if _dirs_cacheable(self.cfg):
                kernel.gofer.cache_dirs()   # the mounts are final now (DirCache)
            self.on_started(kernel)
            lock_down_sentry(self.platform.name, self.allowlist_extras)  # sentry/allowlist.py
            start_collecting()   # start-up is over (sentry/startup.py)
            self.platform.serve(kernel, self)
            outcome = self._outcome()
            outcome.limit = self._limit_hit(kernel, outcome)
            if outcome.limit and not outcome.reason:
                outcome.reason = f"the {outcome.limit} limit was reached"
            return outcome
        finally:
            self._teardown()
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _make_cgroup(self) -> None:
        if not self.cfg.limits.any():
            return
        if self.cfg.rootless:
            self._limits_without_cgroup()
            return
        path = self.cfg.cgroup_path or f"/sandvisor/sandbox-{os.getpid()}-{time.monotonic_ns()}"
        self.cgroup = Cgroup(path)
        try:
            self.cgroup.create(self.cfg.limits)
        except CgroupError as exc:
            self.cgroup = None
            raise SandboxError(f"{exc}; limits need cgroups (run as root on a host with "
                               "the memory and pids controllers)") from None
        self.cfg.cgroup_dirs = dict(self.cgroup.dirs)

    def _limits_without_cgroup(self) -> None:
        """An unprivileged sentry has no cgroup of its own to limit: memory is sampled
        (SampledLimits) and process creation checked against the pids limit (_pids_guard),
        with RLIMIT_NPROC behind it, which the kernel counts per user in the sandbox's own
        user namespace (the caller's other processes do not count)."""
        limits = self.cfg.limits
        if limits.cpu_quota is not None or limits.cpu_shares is not None:
            raise SandboxError("CPU quotas need cgroups, which an unprivileged user does not "
                               "have here; use --cpu-seconds, or run as root")
        if limits.cpus is not None:
            raise SandboxError("--cpuset-cpus needs cgroups, which an unprivileged user does "
                               "not have here; run as root, or under taskset -c LIST")
        if limits.pids is not None:
            # a backstop for forks racing the sentry's check (_pids_guard): the count is
            # per user, and the sentry's own tasks (its threads, the gofer) share it
            backstop = limits.pids + _SENTRY_TASKS
            self.cfg.rlimits.append((resource.RLIMIT_NPROC, backstop, backstop))
        self.sampled = True   # SampledLimits, once init's pid is known
        self.debug("rootless: memory limit sampled, pids limit checked on clone/fork/vfork")

    _PROCESS_CREATION = ("clone", "fork", "vfork")   # clone3 is ENOSYS (syscalls/table.py)

    def _guarded(self) -> frozenset[str]:
        """Host syscalls the sentry checks before they run: rootless, process creation
        against the pids limit (no cgroup counts it)."""
        if self.sampled and self.cfg.limits.pids is not None:
            return frozenset(self._PROCESS_CREATION)
        return frozenset()

    def _pids_guard(self, _task, _nr, _args):
        """A new process or thread, refused with EAGAIN at the pids limit, as a cgroup's
        pids.max refuses it (RLIMIT_NPROC still holds the line against racing forks)."""
        if self.sampler.count_tasks() >= self.cfg.limits.pids:
            self.sampler.pids_hit = True
            return Error(errno.EAGAIN)
        return CONTINUE

    def _limit_hit(self, kernel, outcome: "Outcome") -> str | None:
        """Which limit ended the run, if one did: memory, pids, cpu, time or disk."""
        if outcome.reason.startswith("timed out"):
            return "time"
        if self.cgroup is not None:
            if self.cgroup.oom_kills() > 0:
                return "memory"
            if self.cgroup.pids_refused() > 0:
                return "pids"
        if self.sampler is not None:
            if self.sampler.memory_hit:
                return "memory"
            if self.sampler.pids_hit:
                return "pids"
        if self.cfg.cpu_seconds and (outcome.signal == signal.SIGXCPU or (
                outcome.signal == signal.SIGKILL and self.usage
                and self.usage.ru_utime + self.usage.ru_stime >= 0.9 * self.cfg.cpu_seconds)):
            return "cpu"  # SIGXCPU at the soft limit, SIGKILL at the hard one
        if self.cfg.disk_bytes and _overlay_full(kernel):
            return "disk"
        return None
    def _start_gofer(self) -> None:
        from gofer.server import Gofer
        from gofer.view import ViewBuilder
        from sentry.lockdown import GoferLockdown
        lock_down = GoferLockdown()  # compiled here: the gofer will not see libseccomp
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = fork_helper("sv-gofer", {child_end.fileno()})
        if pid == 0:
            code = 0
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.setsid()
                try:
                    view = ViewBuilder(self.cfg)
                    root = view.build()
                except (ConfigError, OSError) as exc:
                    child_end.send(f"error {exc}".encode())
                    os._exit(1)
                # direct file access: the root comes with the ready message (asked for
                # later, it was a round trip to a gofer waiting for a CPU: 0.6-2 ms)
                direct = self.cfg.file_access == "direct"
                child_end.sendmsg([b"ok"], ffi.rights(root) if direct else [])
                os.umask(0)  # modes arrive with the caller's umask applied already
                gofer = Gofer(child_end, root, view.cgroup_src, rootless=self.cfg.rootless)
                lock_down(gofer)  # its allowlist and capabilities, before any request
                gofer.serve()
            except BaseException:  # noqa: BLE001 - the gofer reports and exits, never returns
                traceback.print_exc()
                code = 1
            os._exit(code)
        child_end.close()
        self.gofer_pid = pid
        self.gofer_pidfd = ffi.pidfd_open(pid)
        self.gofer_sock = parent_end

    def _await_gofer(self) -> None:
        """Until the gofer has built the view (or failed to); with direct file access
        the sandbox root comes with its "ok"."""
        ready, _, _ = select.select([self.gofer_sock], [], [], 30)
        fds: list[int] = []
        if ready:
            msg, ancdata, _flags, _ = self.gofer_sock.recvmsg(
                4096, socket.CMSG_SPACE(4), socket.MSG_CMSG_CLOEXEC)
            fds = ffi.received_fds(ancdata)
        else:
            msg = b"error the gofer did not start within 30 s"
        want = 1 if msg == b"ok" and self.cfg.file_access == "direct" else 0
        if msg != b"ok" or len(fds) != want:
            for fd in fds:
                os.close(fd)
            text = msg.decode(errors="replace").removeprefix("error ") or "the gofer exited"
            if msg == b"ok":
                text = f"it sent {len(fds)} descriptors with its ready message, not {want}"
            raise SandboxError(f"cannot build the sandbox's filesystem: {text}")
        self.root_fd = fds[0] if fds else -1
        self.debug(f"gofer {self.gofer_pid} ready")

    def _start_init(self, bpf: bytes) -> None:
        from sentry.init import run_init
        trap_parent, trap_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.status_r, status_w = os.pipe2(os.O_CLOEXEC)
        try:
            mntns = os.open(f"/proc/{self.gofer_pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            raise SandboxError("the gofer exited during start-up") from None
        gate_r = -1
        if self.cfg.gated:
            gate_r, self.gate_w = os.pipe2(os.O_CLOEXEC)
        ffi.prctl(ffi.PR_SET_CHILD_SUBREAPER, 1)
        keep = {mntns, trap_child.fileno(), status_w, gate_r}
        try:
            pid = self._fork_init(keep, lambda: run_init(self.cfg, mntns, trap_child, status_w,
                                                         self.platform, bpf, gate_r))
        finally:
            os.close(mntns)
        os.close(status_w)
        if gate_r >= 0:
            os.close(gate_r)
        trap_child.close()
        self.init_pid = pid
        self.init_pidfd = ffi.pidfd_open(pid)
        self.debug(f"init {pid} started")
        if self.cgroup is not None:
            self.cgroup.add(pid)
        if self.sampled:
            self.sampler = SampledLimits(pid, self.cfg.limits)
            if self.cfg.limits.memory is not None:
                self.next_sample = time.monotonic() + SampledLimits.INTERVAL
        trap_parent.send(b"g")
        self.trap_parent = trap_parent

    def _fork_init(self, keep: set[int], run) -> int:
        """Fork init, `run()` in the child, as pid 1 of a new pid namespace (`run` closes
        every descriptor but init's own, `keep`, which a launcher keeps for it).

        The sentry unshares the namespace for its next child and takes its own back
        after the fork (its threads must be created in its own namespace). Where it
        could not take it back (rootless: its pid namespace belongs to the host's user
        namespace), a short-lived launcher unshares and forks instead, and init comes
        back to the sentry, a subreaper, when the launcher exits; that launcher's exit
        was ~2 ms of every start-up."""
        own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                ffi.setns(own, ffi.CLONE_NEWPID)   # a no-op that says whether it can
            except OSError:
                return self._fork_init_by_launcher(keep, run)
            ffi.unshare(ffi.CLONE_NEWPID)
            try:
                pid = os.fork()
                if pid == 0:
                    try:
                        run()   # closes all descriptors but its own first
                    finally:
                        os._exit(EXIT_SANDBOX_ERROR)
            finally:
                ffi.setns(own, ffi.CLONE_NEWPID)
        finally:
            os.close(own)
        return pid

    def _fork_init_by_launcher(self, keep: set[int], run) -> int:
        pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
        try:
            launcher = fork_helper(None, keep | {pid_w})
            if launcher == 0:
                try:
                    ffi.unshare(ffi.CLONE_NEWPID)
                    pid = os.fork()
                    if pid == 0:
                        os.close(pid_w)
                        run()
                    os.write(pid_w, b"%d" % pid)
                    os._exit(0)
                except BaseException as exc:  # noqa: BLE001 - reported through the pipe
                    os.write(pid_w, f"error {exc}".encode(errors="replace"))
                finally:
                    os._exit(EXIT_SANDBOX_ERROR)
            os.close(pid_w)
            _reap(launcher)
            answer = os.read(pid_r, 4096).decode(errors="replace")
        finally:
            os.close(pid_r)
        if not answer.isdigit():
            raise SandboxError(f"cannot start the sandbox's init: "
                               f"{answer.removeprefix('error ') or 'its launcher died'}")
        return int(answer)

    def _attach_init(self) -> None:
        """Until init's application child has installed its filter and sent the
        listener (or failed to)."""
        trap_parent, self.trap_parent = self.trap_parent, None
        try:
            self.platform.attach(trap_parent, self.init_pidfd, timeout=30)
        except PlatformUnavailable as exc:
            # init or the child failed early; its status says why
            self._wait_init()
            status = self._read_status()
            if status.startswith("error"):
                raise SandboxError(status.split(" ", 2)[-1]) from None
            raise SandboxError(str(exc)) from None
        finally:
            if self.cfg.gated:
                self.trap_sock = trap_parent
            else:
                trap_parent.close()

    def _kernel(self) -> Kernel:
        client = GoferClient(self.gofer_sock, peer=self.gofer_pid)
        if self.root_fd >= 0:
            client = DirectClient(client, self.root_fd, rootless=self.cfg.rootless)
            self.root_fd = -1   # the client's now
        kernel = Kernel(client, VFS(client, hidden=self.cfg.hidden))
        self.kernel = kernel
        kernel.trap_host = self.cfg.strace
        kernel.log_error = self.debug
        hooks = self.tracers[:]
        if self.cfg.strace:
            from sentry.strace import Strace
            hooks.append(Strace(self.cfg.strace_log, self.cfg.strace_log_size,
                                self.cfg.strace_syscalls))
        if self.cfg.audit_log:
            from sentry.strace import Audit
            self.audit = Audit(self.cfg.audit_log)
            hooks.append(self.audit)
        kernel.trace = _chain(hooks)
        if kernel.trace is not None:
            from sentry.strace import preload
            preload()  # imported now: after the lock-down an import is a killed sentry
        if self._guarded():
            from syscalls.table import NUMBERS
            kernel.guards = {NUMBERS[name]: self._pids_guard for name in self._guarded()}
        self.sigfd = _SignalFd(_FORWARDED)
        return kernel

    # -- the event loop's other duties (called by the platform) ----------------------
    def fds(self) -> list[int]:
        extra = [self.trap_sock.fileno()] if self.trap_sock is not None else []
        return [self.init_pidfd, self.gofer_pidfd, self.sigfd.fd, *extra]

    def stopping(self) -> bool:
        return self.finished

    def poll_timeout_ms(self) -> int:
        if self.deadline is None and self.gofer_dead_at is None and self.next_sample is None:
            return -1  # the common case, asked once per event: keep it cheap
        now = time.monotonic()
        if self.next_sample is not None and now >= self.next_sample:
            self._sample(now)
        ends = [t for t in (self.deadline,
                            self.gofer_dead_at and self.gofer_dead_at + GOFER_GRACE,
                            self.next_sample) if t]
        left = min(ends) - now
        if left <= 0:
            self._expire(now)
            return 0
        return int(left * 1000) + 1

    def _sample(self, now: float) -> None:
        self.next_sample = now + SampledLimits.INTERVAL
        if self.sampler.memory_hit:
            return  # killed already
        used = self.sampler.sample_memory()
        if self.sampler.memory_hit:
            self.debug(f"memory limit: {used} bytes in use; killing the application")
            self._signal_app(signal.SIGKILL)   # as the OOM killer would

    def _expire(self, now: float) -> None:
        if self.deadline and now >= self.deadline and not self.reason:
            self.reason = f"timed out after {self.cfg.timeout:g} s"
        self._kill_init()

    def ready(self, fd: int) -> bool:
        """Handle a watched fd; True when it should not be watched again."""
        if fd == self.init_pidfd:
            if self.trap_sock is not None and _readable(self.trap_sock.fileno(),
                                                        _LAST_WORD_MS):
                # the application may have said why it cannot start just before the
                # end, ready at the same time: that is the answer create gives
                self.ready(self.trap_sock.fileno())
            self.finished = True
            return True
        if self.trap_sock is not None and fd == self.trap_sock.fileno():
            try:
                raw, ancdata, _flags, _addr = self.trap_sock.recvmsg(
                    4096, socket.CMSG_SPACE(4), socket.MSG_CMSG_CLOEXEC)
            except OSError:
                raw, ancdata = b"", []
            fds = ffi.received_fds(ancdata)
            self.trap_sock.close()
            self.trap_sock = None
            msg = raw.decode(errors="replace")
            self.readiness = msg or "error 125 the container process exited during create"
            self.on_ready(self.readiness, fds)
            return True
        if fd == self.gofer_pidfd:
            if self.gofer_dead_at is None:
                self.gofer_dead_at = time.monotonic()
                status = _reap(self.gofer_pid)
                self.gofer_pid = -1
                if status == "killed by SIGSYS":
                    status += ": a syscall outside its allowlist, gofer/allowlist.py"
                self.reason = f"the gofer exited unexpectedly ({status}); file operations " \
                              "now fail with EIO"
                if self.kernel is not None:
                    self.kernel.gofer.failed = self.reason
            return True
        for signo, code in self.sigfd.read():
            if code == _SI_KERNEL and signo in (signal.SIGINT, signal.SIGQUIT, signal.SIGWINCH):
                continue  # from the terminal: the application got it already
            self._signal_app(signo)
        return False

    def on_started(self, kernel) -> None:
        """init runs and its filter is attached; the application has not exec'd yet."""

    def on_ready(self, readiness: str, fds: list[int]) -> None:
        """A gated application is ready to start ("ok") or cannot run ("error CODE MSG");
        `fds` holds its terminal's master side if it asked for one."""
        for fd in fds:
            os.close(fd)

    def open_gate(self) -> None:
        if self.gate_w >= 0:
            os.write(self.gate_w, b"s")
            os.close(self.gate_w)
            self.gate_w = -1

    # -- helpers -------------------------------------------------------------
    def _signal_app(self, signo: int) -> None:
        signal_children(lambda: _children_of(self.init_pid), signo)

    def _kill_init(self) -> None:
        if self.init_pidfd >= 0:
            try:
                ffi.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)
            except OSError:
                pass

    def _wait_init(self) -> int | None:
        if self.init_pid < 0:
            return None
        _, status, self.usage = os.wait4(self.init_pid, 0)
        self.init_pid = -1
        return status

    def _read_status(self) -> str:
        try:
            data = os.read(self.status_r, 4096).decode(errors="replace")
        except OSError:
            data = ""
        return data.splitlines()[0] if data else ""

    def _outcome(self) -> Outcome:
        init_status = self._wait_init()
        line = self._read_status()
        if self.reason:
            timed_out = self.reason.startswith("timed out")
            return Outcome(EXIT_TIMEOUT if timed_out else EXIT_SANDBOX_ERROR, None, None,
                           self.reason)
        kind, _, rest = line.partition(" ")
        if kind == "exit":
            code = int(rest)
            return Outcome(code & 0xFF, code, None)
        if kind == "signal":
            sig = int(rest)
            return Outcome(128 + sig, None, sig)
        if kind == "error":
            return Outcome(EXIT_SANDBOX_ERROR, None, None, rest.split(" ", 1)[-1])
        if not self.cfg.reaper and init_status is not None:
            # the application is pid 1 itself: its own status
            if os.WIFSIGNALED(init_status):
                sig = os.WTERMSIG(init_status)
                return Outcome(128 + sig, None, sig)
            code = os.waitstatus_to_exitcode(init_status)
            return Outcome(code, code, None)
        if init_status is not None and os.WIFSIGNALED(init_status):
            return Outcome(EXIT_SANDBOX_ERROR, None, None,
                           f"the sandbox's init was killed by signal {os.WTERMSIG(init_status)}")
        return Outcome(EXIT_SANDBOX_ERROR, None, None, "the sandbox ended without a status")

    def _teardown(self) -> None:
        self._kill_init()
        if self.init_pid > 0:
            self._wait_init()
        if self.gofer_pid > 0:
            try:
                os.kill(self.gofer_pid, signal.SIGKILL)
            except OSError:
                pass
            _reap(self.gofer_pid)
            self.gofer_pid = -1
        for sock in (self.trap_sock, self.trap_parent):
            if sock is not None:
                sock.close()
        self.trap_sock = self.trap_parent = None
        for fd in (self.gofer_pidfd, self.init_pidfd, self.status_r, self.gate_w, self.root_fd):
            if fd >= 0:
                os.close(fd)
        self.gofer_pidfd = self.init_pidfd = self.status_r = self.gate_w = self.root_fd = -1
        self.platform.close()
        if self.sigfd:
            self.sigfd.close()
        if self.cgroup is not None:
            self.cgroup.remove()


def _dirs_cacheable(cfg: SandboxConfig) -> bool:
    """Whether the gofer's DirCache may serve this sandbox: nothing but the sandbox
    changes its root (an overlay or a tmpfs of its own; a bind, --overlay none or an
    OCI bundle's rootfs, is the host's to change), and its root can override the modes
    of every file (not rootless: there it cannot for files its namespace does not map)."""
    return not cfg.rootless and (cfg.overlay in ("memory", "empty")
                                 or cfg.overlay.startswith("dir="))


def _reap(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _SignalFd:
    """Signals sent to the sentry, read as data with how they were sent (si_code)."""
    _SIGINFO_SIZE = 128

    def __init__(self, signals):
        self.fd = ffi.signalfd(signals)

    def read(self) -> list[tuple[int, int]]:
        out = []
        while True:
            try:
                raw = os.read(self.fd, self._SIGINFO_SIZE * 8)
            except BlockingIOError:
                return out
            for i in range(0, len(raw), self._SIGINFO_SIZE):
                signo = int.from_bytes(raw[i:i + 4], "little")
                code = int.from_bytes(raw[i + 8:i + 12], "little", signed=True)
                out.append((signo, code))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _overlay_full(kernel) -> bool:
    """The memory overlay's free space, as the root's statfs reports it (overlayfs
    reports its upper layer)."""
    _resp, fd = kernel.gofer.call(WalkOpen(Creds(), (), 1, os.O_PATH, 0))
    if fd < 0:
        return False
    try:
        st = os.fstatvfs(fd)
    finally:
        os.close(fd)
    return st.f_bavail * st.f_frsize < max(st.f_blocks * st.f_frsize // 100, 64 * 1024)


def _chain(hooks):
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def trace(*args):
        for hook in hooks:
            hook(*args)
    return trace


def run_sandbox(cfg: SandboxConfig, tracers=()) -> Outcome:
    if cfg.result_json:
        # imported before the sentry's lock-down, not after (only then: start-up time)
        import json
    supervisor = Supervisor(cfg, tracers)
    outcome = supervisor.run()
    if supervisor.usage is not None:
        u = supervisor.usage
        outcome.usage = {"user_seconds": u.ru_utime, "system_seconds": u.ru_stime,
                         "max_rss_kb": u.ru_maxrss}
    if supervisor.audit is not None:
        supervisor.audit.close(outcome)
    if cfg.result_json:
        with open(cfg.result_json, "w") as f:
            json.dump(outcome.as_json(), f)
    return outcome


def report(outcome: Outcome) -> None:
    if outcome.reason:
        print(f"sandvisor: {outcome.reason}", file=sys.stderr)


def _children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def signal_children(children: Callable[[], list[int]], signo: int) -> None:
    """Send `signo` to each process `children()` lists (init's). A pid read from the
    list may be reused by then, by any process of the host: each is pinned with a
    pidfd first, and signalled only if the list still names it afterwards (a pid
    cannot be reused while it is init's child)."""
    pinned = []
    for child in children():
        try:
            pinned.append((child, ffi.pidfd_open(child)))
        except OSError:
            pass   # gone already
    still = set(children()) if pinned else set()
    for child, pidfd in pinned:
        try:
            if child in still:
                ffi.pidfd_send_signal(pidfd, signo)
        except OSError:
            pass
        finally:
            os.close(pidfd)


def _readable(fd: int, timeout_ms: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout_ms))
