"""A container's sentry: the process `create` leaves behind.

It is the Supervisor of sentry.runner with a start gate and a control socket, and it is
the pid written to --pid-file: conmon and containerd's shim (child subreapers) wait
for it, and it exits with the container's status. Commands reach it on
ROOT/ID/control.sock, one JSON message per request:

    {"op": "start"}                          -> {"ok": true}
    {"op": "exec", "process": {...}}  + stdio fds (SCM_RIGHTS)
                                             -> {"ok": true, "pid": HOSTPID} ... {"exit": N}
"""

from __future__ import annotations

import json
import os
import socket
import traceback

from sentry import ffi
from sentry.config import ConfigError
from sentry.allowlist import OCI_EXTRAS
from sentry.oci.console import send_console
from sentry.oci.spawner import ExecSpawner
from sentry.oci.spec import Bundle
from sentry.platform import PlatformUnavailable
from sentry.runner import Supervisor

_MAX = 1 << 16


class ContainerSentry(Supervisor):
    allowlist_extras = OCI_EXTRAS  # its control socket (sentry/allowlist.py)

    def __init__(self, bundle: Bundle, control_path: str, ready_fd: int,
                 console_socket: str | None):
        bundle.sandbox.terminal = bundle.terminal and console_socket is not None
        super().__init__(bundle.sandbox)
        self.bundle = bundle
        self.control_path = control_path
        self.ready_fd = ready_fd
        self.console_socket = console_socket
        self.server: socket.socket | None = None
        self.clients: dict[int, socket.socket] = {}
        self.execs: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, client)

    def run(self):
        ffi.prctl(ffi.PR_SET_CHILD_SUBREAPER, 1)  # exec'd processes come back to us
        self.cfg.cgroup_path = (self.bundle.config.get("linux") or {}).get("cgroupsPath") \
            or f"/sandvisor/{os.path.basename(os.path.dirname(self.control_path))}"
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        self.server.bind(self.control_path)
        self.server.listen(16)
        try:
            return super().run()
        except Exception as exc:  # noqa: BLE001 - create must hear why, whatever it was
            self._report(f"error 125 {exc}")
            raise
        finally:
            self.server.close()
            for client in self.clients.values():
                client.close()

    # -- readiness, reported to the waiting `create` -----------------------------
    def _report(self, text: str) -> None:
        if self.ready_fd >= 0:
            try:
                os.write(self.ready_fd, text.encode())
            finally:
                os.close(self.ready_fd)
                self.ready_fd = -1

    def on_ready(self, readiness: str, fds: list[int]) -> None:
        try:
            if fds and self.console_socket:
                send_console(self.console_socket, fds[0])
        except OSError as exc:
            readiness = f"error 125 cannot use the console socket {self.console_socket}: {exc}"
        finally:
            for fd in fds:
                os.close(fd)
        if readiness == "ok":
            self._report(f"ok {self.init_pid}")
        else:
            self._report(readiness)

    # -- the event loop's extra descriptors --------------------------------------
    def fds(self) -> list[int]:
        return super().fds() + [self.server.fileno()]

    def ready(self, fd: int) -> bool:
        if fd == self.server.fileno():
            conn, _ = self.server.accept()
            conn.setblocking(False)
            self.clients[conn.fileno()] = conn
            self.platform.watch(conn.fileno())
            return False
        if fd in self.clients:
            self._serve_client(self.clients[fd])
            return fd not in self.clients
        if fd in self.execs:
            pid, client = self.execs.pop(fd)
            os.close(fd)
            code = _exit_code(pid)
            try:
                client.send(json.dumps({"exit": code}).encode())
            except OSError:
                pass
            return True
        return super().ready(fd)

    def _drop(self, conn: socket.socket) -> None:
        """Stop reading requests from `conn` (ready() then tells the loop to unwatch it)."""
        self.clients.pop(conn.fileno(), None)

    def _serve_client(self, conn: socket.socket) -> None:
        try:
            raw, ancdata, _flags, _ = conn.recvmsg(_MAX, socket.CMSG_SPACE(4 * 3),
                                                  socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            raw, ancdata = b"", []
        fds = ffi.received_fds(ancdata)
        if not raw:
            self._drop(conn)
            conn.close()
            return
        try:
            req = json.loads(raw)
            op = req.get("op")
            if op == "start":
                self.open_gate()
                conn.send(b'{"ok": true}')
            elif op == "exec":
                pid, master = self._spawn_exec(req.get("process") or {}, fds)
                pidfd = ffi.pidfd_open(pid)
                self.execs[pidfd] = (pid, conn)
                self._drop(conn)  # from now on the connection only waits for the exit
                self.platform.watch(pidfd)
                try:
                    conn.sendmsg([json.dumps({"ok": True, "pid": pid}).encode()],
                                 ffi.rights(*([master] if master >= 0 else [])))
                finally:
                    if master >= 0:
                        os.close(master)
            else:
                conn.send(json.dumps({"error": f"unknown operation {op!r}"}).encode())
        except (ConfigError, OSError, ValueError, PlatformUnavailable) as exc:
            self.debug("control request failed: " + traceback.format_exc())
            try:
                conn.send(json.dumps({"error": str(exc)}).encode())
            except OSError:
                pass
        finally:
            for fd in fds:
                os.close(fd)

    # -- exec: a new process in the container's namespaces, under its own filter --------
    def on_started(self, kernel) -> None:
        # before the sentry locks itself down: from then on it cannot fork (spawner.py)
        self.spawner = ExecSpawner(self)

    def _spawn_exec(self, process: dict, stdio: list[int]) -> int:
        terminal = bool(process.get("terminal"))
        pid, trap_parent = self.spawner.spawn(process, stdio)
        if self.cgroup is not None:
            self.cgroup.add(pid)
        pidfd = ffi.pidfd_open(pid)
        master = -1
        try:
            self.platform.attach(trap_parent, pidfd, timeout=30)
            if terminal:
                master = _receive_fd(trap_parent, 30)
        finally:
            os.close(pidfd)
            trap_parent.close()
        return pid, master


def _receive_fd(sock: socket.socket, timeout: float) -> int:
    sock.settimeout(timeout)
    _msg, ancdata, _flags, _ = sock.recvmsg(16, socket.CMSG_SPACE(4), socket.MSG_CMSG_CLOEXEC)
    fds = ffi.received_fds(ancdata)
    if len(fds) != 1:
        raise OSError("the exec'd process did not send its terminal")
    return fds[0]


def _exit_code(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 255
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)
