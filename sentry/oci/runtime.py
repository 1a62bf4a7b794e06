"""The OCI lifecycle, with runc's answers: create, start, state, kill, delete, exec,
ps, pause, resume. Each operation either completes or raises OciError having left
nothing behind; state changes happen under the store's lock."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess

from sentry import ffi
from sentry.config import ConfigError
from sentry.oci import spec as spec_mod
from sentry.oci.console import send_console
from sentry.oci.state import ContainerState, NotFound, Store, rfc3339_now

CREATE_TIMEOUT = 60.0


class OciError(Exception):
    """A failed operation; the message is what runc would say."""


def parse_signal(text: str) -> int:
    text = str(text).strip()
    if text.isdigit():
        num = int(text)
        if 0 < num < signal.NSIG:
            return num
    else:
        name = text.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
        if sig is not None:
            return int(sig)
    raise OciError(f"invalid signal {text!r}")


def _load(store: Store, cid: str) -> ContainerState:
    try:
        return store.load(cid)
    except (NotFound, ValueError):
        raise OciError("container does not exist") from None


# -- create -----------------------------------------------------------------------
def create(store: Store, cid: str, bundle_path: str, pid_file: str | None,
           console_socket: str | None, platform: str, debug_log: str | None) -> ContainerState:
    try:
        store.dir(cid)
    except ValueError as exc:
        raise OciError(str(exc)) from None
    try:
        bundle = spec_mod.load_bundle(bundle_path, platform)
    except ConfigError as exc:
        raise OciError(f"create failed: {exc}") from None
    if bundle.terminal and not console_socket:
        raise OciError("create failed: process.terminal is true but no --console-socket was given")
    bundle.sandbox.debug_log = debug_log
    with store.locked():
        if store.exists(cid):
            raise OciError("create failed: container with given ID already exists")
        state = ContainerState(cid, bundle.path, bundle.rootfs, "creating", created=rfc3339_now(),
                               annotations=bundle.annotations, platform=platform,
                               hooks={k: [h.__dict__ for h in v] for k, v in bundle.hooks.items()})
        store.save(state)
    try:
        _run_hooks(bundle.hooks.get("createRuntime", []) + bundle.hooks.get("prestart", []),
                   state)
        daemon_pid, app_pid = _start_daemon(store, cid, bundle, console_socket)
    except OciError:
        store.remove(cid)
        raise
    with store.locked():
        state.pid, state.app_pid, state.status = daemon_pid, app_pid, "created"
        store.save(state)
    try:
        _run_hooks(bundle.hooks.get("createContainer", []), state)
    except OciError:
        _kill_daemon(state)
        store.remove(cid)
        raise
    if pid_file:
        _write_atomic(pid_file, str(daemon_pid))
    return state


def _start_daemon(store: Store, cid: str, bundle, console_socket) -> tuple[int, int]:
    from sentry.oci.daemon import ContainerSentry
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = 125
        try:
            os.close(ready_r)
            outcome = ContainerSentry(bundle, store.control(cid), ready_w,
                                      console_socket).run()
            code = outcome.status
        except BaseException:  # noqa: BLE001 - reported through the ready pipe
            pass
        os._exit(code)
    os.close(ready_w)
    ready, _, _ = select.select([ready_r], [], [], CREATE_TIMEOUT)
    msg = os.read(ready_r, 65536).decode(errors="replace") if ready else ""
    os.close(ready_r)
    kind, _, rest = msg.partition(" ")
    if kind == "ok":
        return pid, int(rest)
    _reap_or_kill(pid)
    if kind == "error":
        _code, _, text = rest.partition(" ")
        raise OciError(f"create failed: {text}")
    raise OciError("create failed: the container's sentry exited during create"
                   if ready else "create failed: timed out waiting for the container")


def _reap_or_kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def _run_hooks(hooks, state: ContainerState) -> None:
    payload = json.dumps(state_json(state)).encode()
    for hook in hooks:
        path, args = (hook.path, hook.args) if hasattr(hook, "path") else (hook["path"], hook["args"])
        env = hook.env if hasattr(hook, "env") else hook.get("env", [])
        timeout = hook.timeout if hasattr(hook, "timeout") else hook.get("timeout")
        try:
            proc = subprocess.run([path, *args[1:]], executable=path, input=payload,
                                  env=dict(e.split("=", 1) for e in env if "=" in e),
                                  capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OciError(f"hook {path} failed: {exc}") from None
        if proc.returncode != 0:
            raise OciError(f"hook {path} exited with status {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()}")


def state_json(state: ContainerState) -> dict:
    return state.oci()


# -- start / state / kill / delete ------------------------------------------------------
def _request(store: Store, cid: str, message: dict, fds: list[int] | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(store.control(cid))
        sock.sendmsg([json.dumps(message).encode()], ffi.rights(*(fds or [])))
    except OSError as exc:
        sock.close()
        raise OciError(f"cannot reach the container's sentry: {exc.strerror}") from None
    return sock


def _reply(sock: socket.socket) -> dict:
    raw = sock.recv(65536)
    if not raw:
        raise OciError("the container's sentry closed the connection")
    reply = json.loads(raw)
    if "error" in reply:
        raise OciError(reply["error"])
    return reply


def start(store: Store, cid: str) -> None:
    with store.locked():
        state = _load(store, cid)
        status = state.live_status()
        if status != "created":
            if status in ("running", "paused"):
                raise OciError("cannot start an already running container")
            raise OciError("cannot start a container that has stopped" if status == "stopped"
                           else f"cannot start a container in the {status} state")
        with _request(store, cid, {"op": "start"}) as sock:
            _reply(sock)
        state.status = "running"
        store.save(state)
    try:
        _run_hooks([spec_mod.Hook(**h) for h in state.hooks.get("poststart", [])], state)
    except OciError:
        pass  # runc: a failing poststart hook is logged, not fatal


def state(store: Store, cid: str) -> dict:
    return _load(store, cid).oci()


def kill(store: Store, cid: str, sig: int, all_processes: bool = False) -> None:
    state = _load(store, cid)
    if state.live_status() not in ("created", "running", "paused"):
        raise OciError("container not running")
    targets = container_pids(state) if all_processes else [state.app_pid]
    for pid in targets:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except OSError as exc:
            raise OciError(f"cannot send signal {sig}: {exc.strerror}") from None


def delete(store: Store, cid: str, force: bool) -> None:
    with store.locked():
        try:
            state = store.load(cid)
        except (NotFound, ValueError):
            if force:
                return
            raise OciError("container does not exist") from None
        status = state.live_status()
        if status in ("running", "paused") and not force:
            raise OciError(f"cannot delete container {cid} that is not stopped: {status}")
        _kill_daemon(state)
        store.remove(cid)
    try:
        _run_hooks([spec_mod.Hook(**h) for h in state.hooks.get("poststop", [])], state)
    except OciError:
        pass  # runc: poststop failures are logged, the container is gone either way


def _kill_daemon(state: ContainerState) -> None:
    """Kill the container's sentry (its init and gofer die with it) and wait for it."""
    for pid in (state.app_pid, state.pid):
        if pid <= 0:
            continue
        try:
            pidfd = ffi.pidfd_open(pid)
        except OSError:
            continue
        try:
            ffi.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], 5)
        finally:
            os.close(pidfd)


# -- processes ----------------------------------------------------------------------------
def container_pids(state: ContainerState) -> list[int]:
    """Host pids of every process in the container's pid namespace."""
    try:
        ns = os.stat(f"/proc/{state.app_pid}/ns/pid").st_ino
    except OSError:
        return []
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/ns/pid").st_ino == ns:
                pids.append(int(name))
        except OSError:
            continue
    return sorted(pids)


def pause(store: Store, cid: str, resume: bool = False) -> None:
    with store.locked():
        state = _load(store, cid)
        status = state.live_status()
        if resume and status != "paused":
            raise OciError("container not paused")
        if not resume and status != "running":
            raise OciError("container not running")
        for pid in container_pids(state):
            try:
                os.kill(pid, signal.SIGCONT if resume else signal.SIGSTOP)
            except OSError:
                pass
        state.status = "running" if resume else "paused"
        store.save(state)


def exec_process(store: Store, cid: str, process: dict, detach: bool,
                 pid_file: str | None, console_socket: str | None = None) -> int:
    """Run `process` in the container. Foreground: returns its exit status. Detached:
    a waiter process (the pid written to pid_file) exits with it; returns 0."""
    state = _load(store, cid)
    if state.live_status() not in ("running", "created"):
        raise OciError(f"cannot exec in a {state.live_status()} container")
    if process.get("terminal") and not console_socket:
        raise OciError("exec: process.terminal is true but no --console-socket was given")
    sock = _request(store, cid, {"op": "exec", "process": process}, [0, 1, 2])
    try:
        master = _reply_with_fd(sock)
        if master >= 0:
            try:
                send_console(console_socket, master)
            finally:
                os.close(master)
    except (OciError, OSError) as exc:
        sock.close()
        raise OciError(str(exc)) from None
    if not detach:
        return _wait_exit(sock)
    waiter = os.fork()
    if waiter == 0:
        code = 255
        try:
            os.setsid()
            code = _wait_exit(sock)
        finally:
            os._exit(code)
    sock.close()
    if pid_file:
        _write_atomic(pid_file, str(waiter))
    return 0


def _reply_with_fd(sock: socket.socket) -> int:
    raw, ancdata, _flags, _ = sock.recvmsg(65536, socket.CMSG_SPACE(4), socket.MSG_CMSG_CLOEXEC)
    fds = ffi.received_fds(ancdata)
    if not raw:
        raise OciError("the container's sentry closed the connection")
    reply = json.loads(raw)
    if "error" in reply:
        for fd in fds:
            os.close(fd)
        raise OciError(reply["error"])
    return fds[0] if fds else -1


def _wait_exit(sock: socket.socket) -> int:
    try:
        raw = sock.recv(4096)
    finally:
        sock.close()
    if not raw:
        return 255
    return int(json.loads(raw).get("exit", 255))


def wait_daemon(pid: int) -> int:
    """For `run`: the daemon is our child; its status is the container's."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return 255
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def list_states(store: Store) -> list[ContainerState]:
    return store.all()


def default_spec(args: list[str] | None = None) -> dict:
    """What `runc spec` writes, trimmed to what sandvisor honours."""
    return {
        "ociVersion": "1.0.2-dev",
        "process": {"terminal": True, "user": {"uid": 0, "gid": 0}, "args": args or ["sh"],
                    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "TERM=xterm"],
                    "cwd": "/", "noNewPrivileges": True,
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "sandvisor",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                   {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                    "options": ["nosuid", "noexec", "nodev", "ro"]}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
                  "maskedPaths": [], "readonlyPaths": []},
    }

