"""The ptrace platform: a SECCOMP_RET_TRACE prefilter and a Python tracer.

For hosts without seccomp user notification (or where ptrace is wanted). The
application's filter is the same table-compiled BPF with SECCOMP_RET_TRACE instead of
USER_NOTIF (sentry/platform/bpf.py, trap="trace"): only what the table emulates (or,
with --strace, everything it lets through) stops in the tracer; host syscalls run at
full speed and denied ones fail in the kernel.

Attach. A filter with RET_TRACE and no tracer makes the trapped syscalls fail with
ENOSYS, so the application child must be traced before it loads the filter:
`child_install` sends one message with SCM_CREDENTIALS (the kernel translates the pid
into the sentry's pid namespace), blocks until the sentry has PTRACE_SEIZEd it with
TRACESECCOMP|TRACEFORK|TRACEVFORK|TRACECLONE|TRACEEXEC|TRACESYSGOOD|EXITKILL and
answered one byte, then loads the filter and execs. Every fork, vfork and clone child
is traced from birth; EXITKILL kills the application if the tracer goes away.

The tracer thread. ptrace requests must come from the thread that attached, and
waitpid(-1) in the sentry's main thread would also reap the gofer and the sandbox's
init (children of the main thread), which the runner waits for itself. So a dedicated
thread seizes the child and waits with waitpid(-1, __WALL|__WNOTHREAD): it sees only
its tracees. It runs the handlers; the main thread's `serve` only polls the loop's fds
(init and gofer pidfds, the signalfd) and a pipe the tracer closes when its last
tracee is gone. Kernel state is touched by the tracer thread only.

Answers (one stop per syscall; the syscall-exit stop is never needed for them):
- Return(v) / Error(e): at the seccomp stop, orig_rax := -1 (skip the syscall) and
  rax := v or -e, then PTRACE_CONT: a skipped syscall returns what the tracer put in
  rax (seccomp(2)).
- Continue: PTRACE_CONT, nothing changed.
- InjectFd(fd): ptrace has no ADDFD, and only the gofer may open files, so the
  descriptor the sentry holds is passed with SCM_RIGHTS over a socket the tracee
  creates itself, by running syscalls in the stopped tracee:
    1. the trapped syscall is rewritten (still at the seccomp stop) into
       socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, sv) -> a, b
       (sv in scratch memory below the red zone of the tracee's stack);
    2. the sentry takes a copy of `a` with pidfd_getfd and sends the fd over it;
    3. close(a); recvmsg(b, ..., MSG_CMSG_CLOEXEC if O_CLOEXEC) -> c; close(b).
  Closing `a` before receiving makes `c` the lowest free descriptor, the number a
  native open would have returned. Each extra syscall is run by pointing rip back at
  the `syscall` instruction (rip - 2) and PTRACE_SINGLESTEP: one stop after it returns.
  Finally the registers of the original stop are restored with rax := c. Nothing of
  the sentry stays in the application: the socket exists only while the calling thread
  is stopped in this sequence. If the stack below the red zone is not mapped (a thread
  at the very bottom of its stack), a scratch page is mmap'ed for the sequence and
  unmapped after it.
Signals that arrive during the sequence are held back and re-delivered when it ends,
with their siginfo: the first at the final resume (PTRACE_SETSIGINFO), the others
queued again with rt_tgsigqueueinfo (or tgkill, for a kernel's or tgkill's own, which
the kernel lets no other process queue).

The tracer waits for the next stop polling first, for an adaptive window of up to 40
µs (spin.py): asleep, it is woken on the other, halted CPU (docs/DESIGN.md).

`kernel.still_valid` is constant True: a tracee stays stopped while its memory is read
(through /proc/TID/mem, as the Task does) and its tid cannot be recycled before the
tracer has reaped it.
"""

from __future__ import annotations

import collections
import ctypes
import errno
import os
import select
import signal
import socket
import struct
import threading
import traceback

from sentry import ffi
from sentry.events import Error, InjectFd, Return
from sentry.kernel import MemoryFault
from sentry.strace import snapshot
from sentry.platform import Platform, PlatformUnavailable, Probe, kernel_version
from sentry.platform.spin import AdaptiveSpin
from syscalls.table import NUMBERS

try:  # python-ptrace's low-level binding: the ptrace(2) call itself
    from ptrace import PtraceError
    from ptrace.binding.func import ptrace as _ptrace
except ImportError as _exc:  # pragma: no cover - a dependency of the project
    _ptrace = None
    PtraceError = OSError
    _IMPORT_ERROR = str(_exc)
else:
    _IMPORT_ERROR = ""

OPTIONS = (ffi.PTRACE_O_TRACESECCOMP | ffi.PTRACE_O_TRACEFORK | ffi.PTRACE_O_TRACEVFORK
           | ffi.PTRACE_O_TRACECLONE | ffi.PTRACE_O_TRACEEXEC | ffi.PTRACE_O_TRACESYSGOOD
           | ffi.PTRACE_O_EXITKILL)
MIN_KERNEL = (5, 6)   # pidfd_getfd; SEIZE, TRACESECCOMP and EXITKILL are older

_WAIT_FLAGS = ffi.WALL | ffi.WNOTHREAD
_SKIP = (1 << 64) - 1           # orig_rax = -1: skip the syscall
_U64 = (1 << 64) - 1
_GROUP_STOP_SIGNALS = frozenset((signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN,
                                 signal.SIGTTOU))
_SYSCALL_TRAP = signal.SIGTRAP | 0x80
_POLL_IN = select.POLLIN
_EXITED = (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED)

_NR_SOCKETPAIR = NUMBERS["socketpair"]
_NR_CLOSE = NUMBERS["close"]
_NR_RECVMSG = NUMBERS["recvmsg"]
_NR_MMAP = NUMBERS["mmap"]
_NR_MUNMAP = NUMBERS["munmap"]

# scratch layout for the descriptor hand-over, below the tracee's red zone
_SCRATCH_SIZE = 128
_SV, _MSG, _IOV, _BUF, _CTRL = 0, 16, 72, 88, 96   # int[2], msghdr, iovec, byte, cmsg
_MSGHDR = struct.Struct("=QI4xQQQQi4x")             # 56 bytes
_IOVEC = struct.Struct("=QQ")
_CMSG_SPACE = socket.CMSG_SPACE(4)                  # 24
_CMSG_HDR = struct.Struct("=Qiii")                  # len, level, type, one int


def _status_fields(path: str = "/proc/self/status") -> dict[str, str]:
    with open(path) as f:
        return dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)


def _tracer_of(pid: int | str = "self") -> int:
    try:
        return int(_status_fields(f"/proc/{pid}/status").get("TracerPid", "0").strip())
    except (OSError, ValueError):
        return 0


def _process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def ptrace_scope(path: str | None = None) -> int | None:
    """yama's kernel.yama.ptrace_scope, or None without yama."""
    try:
        with open(path or ffi.YAMA_PTRACE_SCOPE) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def has_cap_sys_ptrace() -> bool:
    try:
        cap_eff = int(_status_fields().get("CapEff", "0").strip(), 16)
    except (OSError, ValueError):
        return os.geteuid() == 0
    return bool(cap_eff >> ffi.CAP_SYS_PTRACE & 1)


class _Gone(Exception):
    """The tracee died (or was killed) in the middle of an injected sequence."""


class PtracePlatform(Platform):
    name = "ptrace"
    trap = "trace"

    def __init__(self):
        self.app_pid = -1
        self._own_child = False   # the application is the sentry's own child (no reaper)
        self.trace_host = False
        self._thread: threading.Thread | None = None
        self._seized = threading.Event()
        self._go = threading.Event()
        self._quit = False
        self._seize_error: BaseException | None = None
        self._kernel = None
        self._done_r = self._done_w = -1
        self._pending: collections.deque = collections.deque()
        self._spin = AdaptiveSpin()
        self._regs = ctypes.create_string_buffer(ffi.USER_REGS_SIZE)
        self._regs_addr = ctypes.addressof(self._regs)
        self._saved = ctypes.create_string_buffer(ffi.USER_REGS_SIZE)
        self._saved_addr = ctypes.addressof(self._saved)

    # -- probing ---------------------------------------------------------------
    @classmethod
    def probe(cls, scope_path: str | None = None) -> Probe:
        if _ptrace is None:
            return Probe(cls.name, False, f"python-ptrace is not importable ({_IMPORT_ERROR})")
        version = kernel_version()
        if version < MIN_KERNEL:
            return Probe(cls.name, False, f"kernel {version[0]}.{version[1]} lacks pidfd_getfd "
                         f"(needs {MIN_KERNEL[0]}.{MIN_KERNEL[1]})")
        tracer = _tracer_of()
        if tracer:
            return Probe(cls.name, False, f"sandvisor is itself being traced by pid {tracer} "
                         f"({_process_name(tracer)}); a process has one tracer only")
        scope = ptrace_scope(scope_path)
        if scope == 3:
            return Probe(cls.name, False, "yama ptrace_scope is 3 (no process may use ptrace "
                         "until reboot)")
        # rootless, the sentry holds CAP_SYS_PTRACE in the user namespace it creates,
        # which owns the application (sentry.userns)
        cap = has_cap_sys_ptrace() or os.geteuid() != 0
        if scope == 2 and not cap:
            return Probe(cls.name, False, "yama ptrace_scope is 2 (admin-only attach) and "
                         "CAP_SYS_PTRACE is missing")
        where = "no yama" if scope is None else f"yama ptrace_scope={scope}"
        if os.geteuid() != 0:
            where += ", rootless: in a user namespace of its own"
        return Probe(cls.name, True, f"ptrace with a SECCOMP_RET_TRACE prefilter ({where})")

    # -- in the application child ----------------------------------------------------
    def child_install(self, sock, bpf: bytes) -> None:
        creds = struct.pack("=iII", os.getpid(), os.getuid(), os.getgid())
        sock.sendmsg([b"P"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
        if sock.recv(1) != b"S":
            raise OSError(errno.EPERM, "the sentry could not trace the application")
        ffi.seccomp_load_filter(bpf, 0)

    # -- in the sentry -----------------------------------------------------------------
    def attach(self, sock, app_pidfd: int, timeout: float) -> None:
        self.wait_for_child(sock, app_pidfd, timeout, "asking to be traced")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            msg, ancdata, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(12))
        finally:   # later messages on this socket (OCI readiness, fds) need no creds
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 0)
        pids = [struct.unpack("=iII", raw[:12])[0] for lvl, kind, raw in ancdata
                if lvl == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS]
        if msg != b"P" or not pids or pids[0] <= 0:
            raise PlatformUnavailable("the application child did not identify itself")
        if self._thread is not None:
            raise PlatformUnavailable("ptrace: attaching another process to a running "
                                      "sandbox is not supported")
        self.app_pid = pids[0]
        try:
            ppid = int(_status_fields(f"/proc/{self.app_pid}/status")["PPid"])
        except (OSError, KeyError, ValueError):
            ppid = -1
        self._own_child = ppid == os.getpid()
        self._done_r, self._done_w = os.pipe2(os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._tracer_main, name="sv-ptrace",
                                        daemon=True)
        self._thread.start()
        self._seized.wait()
        if self._seize_error is not None:
            exc = self._seize_error
            err = getattr(exc, "errno", None)
            tracer = _tracer_of(self.app_pid)
            if tracer:
                why = f"it is already traced by pid {tracer} ({_process_name(tracer)})"
            elif err == errno.EPERM:
                why = "permission denied (yama ptrace_scope or a missing CAP_SYS_PTRACE)"
            else:
                why = os.strerror(err) if err else str(exc)
            raise PlatformUnavailable(f"ptrace: cannot attach to the application: {why}")
        sock.send(b"S")

    def close(self) -> None:
        self._quit = True
        self._go.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)   # ends once its last tracee is reaped
            if thread.is_alive():
                return   # still reaping: its descriptors stay its own
            self._thread = None
        self._spin.close()
        if self._done_w >= 0:
            os.close(self._done_w)
            self._done_w = -1
        if self._done_r >= 0:
            os.close(self._done_r)
            self._done_r = -1

    def serve(self, kernel, loop) -> None:
        """Poll the loop's fds until loop.stopping(); the tracer thread answers syscalls."""
        kernel.still_valid = lambda: True
        self.trace_host = kernel.trap_host
        self._kernel = kernel
        self._go.set()
        self.poller = poller = select.poll()   # Platform.watch() adds to it
        poller.register(self._done_r, _POLL_IN)
        for fd in loop.fds():
            poller.register(fd, _POLL_IN)
        while not loop.stopping():
            try:
                ready = poller.poll(loop.poll_timeout_ms())
            except InterruptedError:
                continue
            for fd, _events in ready:
                if fd == self._done_r:
                    poller.unregister(fd)   # every traced task is gone; init's exit follows
                elif loop.ready(fd):
                    poller.unregister(fd)
        self.poller = None

    # -- the tracer thread --------------------------------------------------------------
    def _tracer_main(self) -> None:
        try:
            try:
                _ptrace(ffi.PTRACE_SEIZE, self.app_pid, 0, OPTIONS)
            except BaseException as exc:  # noqa: BLE001 - reported by attach()
                self._seize_error = exc
                return
            finally:
                self._seized.set()
            self._go.wait()
            if not self._quit:
                try:
                    self._loop(self._kernel)
                finally:
                    # this thread served the requests: its fsuid is the last caller's,
                    # and the groups it set are every thread's (gofer/client.py)
                    self._kernel.gofer.as_sentry()
        except BaseException:  # noqa: BLE001 - the application dies with us (EXITKILL)
            kernel = self._kernel
            if kernel is not None:
                kernel.log_error("ptrace tracer failed:\n" + traceback.format_exc())
        finally:
            if self._done_w >= 0:
                os.close(self._done_w)
                self._done_w = -1

    def _wait(self) -> tuple[int, int]:
        if not self._pending:
            self._pending.append(self._next_event())
            self._drain()
        return self._pending.popleft()

    def _drain(self) -> None:
        """Queue every stop already waiting, to be served in turn: waitpid(-1) alone
        favours the newest tracees, and with 200 busy threads the oldest waited 1.7 s
        for one syscall (bench/load.py)."""
        while (got := self._poll_event()) is not None:
            self._pending.append(got)

    def _poll_event(self) -> tuple[int, int] | None:
        """A stop or exit already waiting, without blocking."""
        try:
            if not self._own_child:
                pid, status = os.waitpid(-1, _WAIT_FLAGS | os.WNOHANG)
            else:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | _WAIT_FLAGS
                                 | os.WNOWAIT | os.WNOHANG)
                if info is None or (info.si_pid == self.app_pid
                                    and info.si_code in _EXITED):
                    return None  # the application's own exit is _block_event's to see
                pid, status = os.waitpid(info.si_pid, _WAIT_FLAGS)
        except (ChildProcessError, InterruptedError):
            return None
        return None if pid == 0 else (pid, status)

    def _next_event(self) -> tuple[int, int]:
        """The next stop or exit of a tracee: polled for a while first (spin.py), since
        a tracer asleep is woken on another, halted CPU."""
        return self._spin.wait(self._poll_event, self._block_event)

    def _block_event(self) -> tuple[int, int]:
        """Sleep until a tracee stops or exits. When the traced application is the
        sandbox's init itself (no reaper), it is also a child of the sentry's main
        thread, which must reap it: its exit is only looked at, and ends the tracing."""
        while True:
            try:
                if not self._own_child:
                    return os.waitpid(-1, _WAIT_FLAGS)
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | _WAIT_FLAGS
                                 | os.WNOWAIT)
                if info.si_pid == self.app_pid and info.si_code in _EXITED:
                    raise ChildProcessError(errno.ECHILD, "the application exited")
                return os.waitpid(info.si_pid, _WAIT_FLAGS)
            except InterruptedError:
                continue

    def _loop(self, kernel) -> None:
        ptrace = _ptrace
        wait = self._wait
        while True:
            try:
                tid, status = wait()
            except ChildProcessError:
                return   # no tracee left, and none can appear
            if status & 0xFF != 0x7F:   # exited or killed
                kernel.forget(tid)
                continue
            sig = (status >> 8) & 0xFF
            event = status >> 16
            try:
                if event == ffi.PTRACE_EVENT_SECCOMP:
                    self._syscall(kernel, tid)
                elif event == 0:
                    # signal-delivery-stop: deliver it; a stray syscall stop: go on
                    ptrace(ffi.PTRACE_CONT, tid, 0, 0 if sig == _SYSCALL_TRAP else sig)
                elif event == ffi.PTRACE_EVENT_STOP:
                    if sig in _GROUP_STOP_SIGNALS:
                        ptrace(ffi.PTRACE_LISTEN, tid, 0, 0)   # stay stopped, keep tracing
                    else:
                        ptrace(ffi.PTRACE_CONT, tid, 0, 0)     # new child, or woken up
                elif event == ffi.PTRACE_EVENT_EXEC:
                    former = self._eventmsg(tid)
                    if former != tid:
                        kernel.forget(former)   # a thread exec'ed: it now has the leader's tid
                    kernel.forget(tid)
                    ptrace(ffi.PTRACE_CONT, tid, 0, 0)
                else:   # fork, vfork, clone, vfork-done: the child is traced already
                    ptrace(ffi.PTRACE_CONT, tid, 0, 0)
            except PtraceError as exc:
                if getattr(exc, "errno", None) != errno.ESRCH:
                    raise
                # killed while stopped: its exit is reported next

    def _eventmsg(self, tid: int) -> int:
        out = ctypes.c_ulong()
        _ptrace(ffi.PTRACE_GETEVENTMSG, tid, 0, ctypes.addressof(out))
        return out.value

    def _syscall(self, kernel, tid: int) -> None:
        regs = self._regs
        _ptrace(ffi.PTRACE_GETREGS, tid, 0, self._regs_addr)
        a3, a5, a4, _rax, _rcx, a2, a1, a0, nr = ffi.SYSCALL_REGS.unpack_from(
            regs, ffi.SYSCALL_REGS_OFFSET)
        task = kernel.tasks.get(tid) or kernel.task(tid)
        args = (a0, a1, a2, a3, a4, a5)
        result = kernel.dispatch(task, nr, args)
        # strings are read while the caller is stopped: afterwards it may reuse them
        snap = snapshot(task, nr, args) if kernel.trace is not None else None
        cls = type(result)
        if cls is Return or cls is Error:
            value = result.value if cls is Return else -result.errno
            struct.pack_into("=Q", regs, ffi.REG_ORIG_RAX, _SKIP)
            struct.pack_into("=Q", regs, ffi.REG_RAX, value & _U64)
            _ptrace(ffi.PTRACE_SETREGS, tid, 0, self._regs_addr)
            _ptrace(ffi.PTRACE_CONT, tid, 0, 0)
        elif cls is InjectFd:
            result = self._inject_fd(task, tid, result.fd, result.cloexec)
        else:
            _ptrace(ffi.PTRACE_CONT, tid, 0, 0)
        if snap is not None:
            kernel.trace(task, nr, args, result, snap)

    # -- running syscalls in a stopped tracee -----------------------------------------------
    def _inject_fd(self, task, tid: int, fd: int, cloexec: bool):
        """Install the sentry's `fd` in the tracee stopped at a seccomp stop and complete
        its syscall with the new descriptor's number (see the module docstring)."""
        ctypes.memmove(self._saved_addr, self._regs_addr, ffi.USER_REGS_SIZE)
        run = _Injector(self, tid)
        signals = run.signals
        answer: Return | Error = Error(errno.EINTR)
        try:
            try:
                answer = self._hand_over(task, tid, run, fd, cloexec)
            finally:
                os.close(fd)
            # the original stop's registers, completed with the answer
            ctypes.memmove(self._regs_addr, self._saved_addr, ffi.USER_REGS_SIZE)
            value = answer.value if type(answer) is Return else -answer.errno
            struct.pack_into("=Q", self._regs, ffi.REG_ORIG_RAX, _SKIP)
            struct.pack_into("=Q", self._regs, ffi.REG_RAX, value & _U64)
            _ptrace(ffi.PTRACE_SETREGS, tid, 0, self._regs_addr)
            first = 0
            if signals:
                # delivered now with the siginfo it came with: the stop is the last
                # step's, a signal-delivery-stop, where the kernel takes both
                first, info = signals.pop(0)
                _ptrace(ffi.PTRACE_SETSIGINFO, tid, 0, ctypes.addressof(info))
            _ptrace(ffi.PTRACE_CONT, tid, 0, first)
            for sig, info in signals:   # more than one arrived: make the rest pending again
                _requeue(task.tgid, tid, sig, info)
        except _Gone:
            self._kernel.forget(tid)
            return Error(errno.EINTR)
        except PtraceError as exc:
            if getattr(exc, "errno", None) != errno.ESRCH:
                raise
            return Error(errno.EINTR)
        return answer

    def _hand_over(self, task, tid: int, run: "_Injector", fd: int, cloexec: bool):
        saved = self._saved
        rsp = struct.unpack_from("=Q", saved, ffi.REG_RSP)[0]
        scratch = (rsp - ffi.X86_RED_ZONE - _SCRATCH_SIZE - 64) & ~0xF
        mapped = 0
        try:
            task.write(scratch, self._scratch_image(scratch))
        except MemoryFault:
            # the stack below the red zone is not mapped: borrow a page for the sequence
            mapped = run.call(_NR_MMAP, 0, 4096, 3, 0x22, _U64, 0)   # RW, PRIVATE|ANONYMOUS
            if mapped < 0:
                return Error(-mapped)
            scratch = mapped
            try:
                task.write(scratch, self._scratch_image(scratch))
            except MemoryFault:
                run.call(_NR_MUNMAP, mapped, 4096)
                return Error(errno.EFAULT)
        try:
            return self._socket_dance(task, tid, run, fd, cloexec, scratch)
        finally:
            if mapped:
                run.call(_NR_MUNMAP, mapped, 4096)

    @staticmethod
    def _scratch_image(base: int) -> bytes:
        img = bytearray(_SCRATCH_SIZE)
        _MSGHDR.pack_into(img, _MSG, 0, 0, base + _IOV, 1, base + _CTRL, _CMSG_SPACE, 0)
        _IOVEC.pack_into(img, _IOV, base + _BUF, 1)
        return bytes(img)

    def _socket_dance(self, task, tid, run, fd, cloexec, scratch):
        r = run.call(_NR_SOCKETPAIR, socket.AF_UNIX,
                     socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC, 0, scratch + _SV)
        if r < 0:
            return Error(-r)
        try:
            a, b = struct.unpack("=ii", task.read(scratch + _SV, 8))
        except MemoryFault:
            return Error(errno.EFAULT)
        try:
            self._send_fd(tid, task.tgid, a, fd)
        except OSError as exc:
            run.call(_NR_CLOSE, a)
            run.call(_NR_CLOSE, b)
            return Error(exc.errno or errno.EIO)
        run.call(_NR_CLOSE, a)
        flags = socket.MSG_CMSG_CLOEXEC if cloexec else 0
        r = run.call(_NR_RECVMSG, b, scratch + _MSG, flags)
        got = -1
        if r >= 0:
            try:
                length, level, kind, got = _CMSG_HDR.unpack(task.read(scratch + _CTRL, 20))
            except MemoryFault:
                length = level = kind = 0
            if level != socket.SOL_SOCKET or kind != socket.SCM_RIGHTS or length < 20:
                got = -1
        run.call(_NR_CLOSE, b)
        if got < 0:
            return Error(-r if r < 0 else errno.EIO)
        return Return(got)

    @staticmethod
    def _send_fd(tid: int, tgid: int, remote: int, fd: int) -> None:
        try:
            pidfd = ffi.pidfd_open_flags(tid, ffi.PIDFD_THREAD)
        except OSError:
            pidfd = ffi.pidfd_open(tgid)   # kernel < 6.9: the process's descriptor table
        try:
            mine = ffi.pidfd_getfd(pidfd, remote)
        finally:
            os.close(pidfd)
        with socket.socket(fileno=mine) as s:
            s.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("=i", fd))],
                      socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)


class _Injector:
    """Runs syscalls in one tracee stopped at a seccomp stop: the first by rewriting the
    stopped syscall, the next ones by pointing rip back at its `syscall` instruction;
    PTRACE_SINGLESTEP stops right after each returns."""

    def __init__(self, plat: PtracePlatform, tid: int):
        self.plat = plat
        self.tid = tid
        self.calls = 0
        self.signals: list[tuple[int, ctypes.Array]] = []   # (signal, its siginfo)
        self.after = struct.unpack_from("=Q", plat._saved, ffi.REG_RIP)[0]

    def call(self, nr: int, *args: int) -> int:
        plat = self.plat
        regs = plat._regs
        ctypes.memmove(plat._regs_addr, plat._saved_addr, ffi.USER_REGS_SIZE)
        full = list(args) + [0] * (6 - len(args))
        for off, value in zip((ffi.REG_RDI, ffi.REG_RSI, ffi.REG_RDX, ffi.REG_R10, ffi.REG_R8,
                               ffi.REG_R9), full):
            struct.pack_into("=Q", regs, off, value & _U64)
        if self.calls == 0:
            struct.pack_into("=Q", regs, ffi.REG_ORIG_RAX, nr)   # rewrite the stopped call
        else:
            struct.pack_into("=Q", regs, ffi.REG_RAX, nr)        # execute `syscall` again
            struct.pack_into("=Q", regs, ffi.REG_RIP, self.after - ffi.SYSCALL_INSN_SIZE)
        self.calls += 1
        _ptrace(ffi.PTRACE_SETREGS, self.tid, 0, plat._regs_addr)
        _ptrace(ffi.PTRACE_SINGLESTEP, self.tid, 0, 0)
        return self._stepped()

    def _stepped(self) -> int:
        plat = self.plat
        tid = self.tid
        while True:
            try:
                pid, status = plat._next_event()
            except ChildProcessError:
                raise _Gone() from None
            if pid != tid:
                plat._pending.append((pid, status))   # handled by the main loop later
                continue
            if status & 0xFF != 0x7F:
                raise _Gone()
            sig = (status >> 8) & 0xFF
            event = status >> 16
            if event == 0 and sig == signal.SIGTRAP:
                _ptrace(ffi.PTRACE_GETREGS, tid, 0, plat._regs_addr)
                rip, rax = struct.unpack_from("=Q", plat._regs, ffi.REG_RIP)[0], \
                    struct.unpack_from("=q", plat._regs, ffi.REG_RAX)[0]
                if rip == self.after:
                    return rax
            elif event == 0 and sig != _SYSCALL_TRAP:
                # held back until the sequence ends, with its siginfo (the sender's
                # pid, a sigqueue value, a child's status)
                info = ctypes.create_string_buffer(ffi.SIGINFO_SIZE)
                _ptrace(ffi.PTRACE_GETSIGINFO, tid, 0, ctypes.addressof(info))
                self.signals.append((sig, info))
            # a seccomp stop of the injected syscall itself (--strace traps host
            # syscalls), a group stop, a stray syscall stop: step on
            _ptrace(ffi.PTRACE_SINGLESTEP, tid, 0, 0)


_NR_TGKILL = NUMBERS["tgkill"]
_NR_RT_TGSIGQUEUEINFO = NUMBERS["rt_tgsigqueueinfo"]
_SI_CODE = struct.Struct("=i").unpack_from   # at offset 8 of siginfo_t


def _requeue(tgid: int, tid: int, sig: int, info: ctypes.Array) -> None:
    """Make a held-back signal pending again: with its siginfo where the kernel lets
    another process queue it (a sender's code below 0 but tgkill's), else by tgkill."""
    code = _SI_CODE(info, 8)[0]
    if code < 0 and code != ffi.SI_TKILL and ffi._syscall(
            _NR_RT_TGSIGQUEUEINFO, tgid, tid, sig, info) == 0:
        return
    ffi._syscall(_NR_TGKILL, tgid, tid, sig)   # gone meanwhile: nothing to do
