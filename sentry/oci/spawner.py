"""The OCI sentry's `exec` helper: the one process that still forks.

A container's sentry serves `exec` for as long as the container runs, but once it has
locked itself down (sentry/allowlist.py) it can neither fork, nor setns into the
container's namespaces, nor exec; and a process forked from it would inherit its
filter on top of the application's. So before the lock-down the sentry forks this
helper (comm "sv-exec"): it holds no descriptor but its end of a socketpair to the
sentry, dies with the sentry (PR_SET_PDEATHSIG), and does for each request what the
sentry did itself before: fork, enter the container's namespaces, fork the process
that installs the application's filter and execs. The exec'd process comes back to
the sentry (a child subreaper) when the intermediate child exits, so the sentry waits
for it as before; its trap socket comes back with the answer.

The helper runs unfiltered and privileged, and its only input is the sentry's
requests: a sentry taken over could have it start processes in the container's
namespaces, under the application's filter, with any capabilities the spawner's
bounding set holds — what `exec` itself offers, no more.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import traceback

from sentry import ffi
from sentry.child import fork_helper
from sentry.config import ConfigError

_MAX = 1 << 16
_NS_ORDER = ("ipc", "uts", "net", "pid", "mnt")  # mnt last: it changes the root


class ExecSpawner:
    def __init__(self, sentry):
        """Fork the helper from `sentry` (a ContainerSentry whose init is running)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = fork_helper("sv-exec", {theirs.fileno()})
        if pid == 0:
            code = 0
            try:
                _serve(theirs, sentry)
            except BaseException:  # noqa: BLE001 - report and exit, never return
                traceback.print_exc()
                code = 1
            os._exit(code)
        theirs.close()
        self.pid = pid
        self.sock = ours

    def spawn(self, process: dict, stdio: list[int]) -> tuple[int, socket.socket]:
        """Start `process` (config.json's form) on `stdio`: its host pid and the socket
        its trap arrives on."""
        self.sock.sendmsg([json.dumps(process).encode()], ffi.rights(*stdio))
        raw, ancdata, _flags, _ = self.sock.recvmsg(_MAX, socket.CMSG_SPACE(4),
                                                    socket.MSG_CMSG_CLOEXEC)
        fds = ffi.received_fds(ancdata)
        answer = json.loads(raw) if raw else {"error": "the exec helper exited"}
        if "error" in answer or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise ConfigError(answer.get("error") or "the exec helper sent no trap socket")
        return answer["pid"], socket.socket(fileno=fds[0])


def _serve(sock: socket.socket, sentry) -> None:
    while True:
        raw, ancdata, _flags, _ = sock.recvmsg(_MAX, socket.CMSG_SPACE(4 * 3),
                                               socket.MSG_CMSG_CLOEXEC)
        stdio = ffi.received_fds(ancdata)
        if not raw:
            return
        trap = -1
        try:
            pid, trap = _spawn(sentry, json.loads(raw), stdio)
            sock.sendmsg([json.dumps({"pid": pid}).encode()], ffi.rights(trap))
        except (ConfigError, OSError, ValueError) as exc:
            sock.send(json.dumps({"error": str(exc)}).encode())
        finally:
            for fd in stdio + ([trap] if trap >= 0 else []):
                os.close(fd)


def _spawn(sentry, process: dict, stdio: list[int]) -> tuple[int, int]:
    from sentry.init import _exec_app
    from sentry.oci.spec import parse_process
    from sentry.platform.bpf import compile_filter
    cfg = parse_process(process, sentry.cfg)
    cfg.gated = False
    cfg.terminal = bool(process.get("terminal"))
    if len(stdio) != 3:
        raise ValueError("exec needs the three stdio descriptors")
    bpf = compile_filter(sentry.platform.trap, sentry.cfg.strace, sentry.cfg.deny_syscalls)
    trap_parent, trap_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
    ns_fds = [os.open(f"/proc/{sentry.init_pid}/ns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
              for ns in _NS_ORDER]
    child = os.fork()
    if child == 0:
        try:
            trap_parent.close()
            os.close(pid_r)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            for fd in ns_fds:
                ffi.setns(fd, 0)
            grandchild = os.fork()
            if grandchild == 0:
                for target, fd in enumerate(stdio):
                    os.dup2(fd, target)
                _exec_app(cfg, trap_child, -1, sentry.platform, bpf, deathsig=False)
            os.write(pid_w, str(grandchild).encode())
        finally:
            os._exit(0)
    for fd in ns_fds:
        os.close(fd)
    os.close(pid_w)
    trap_child.close()
    os.waitpid(child, 0)
    raw = os.read(pid_r, 32)
    os.close(pid_r)
    if not raw:
        trap_parent.close()
        raise OSError("cannot enter the container's namespaces")
    return int(raw), trap_parent.detach()
