"""The Python API: run untrusted commands in a sandbox and get a result back.

    from sentry.api import Sandbox, Limits

    result = Sandbox(network="none", limits=Limits(memory="256m", wall_seconds=10)).run(
        ["python3", "-c", "print(6 * 7)"])
    assert result.exit_code == 0 and result.stdout == b"42\\n"

    with Sandbox(root="/") as sb:        # several runs sharing one writable layer
        sb.run(["sh", "-c", "echo hi > /tmp/note"])
        assert sb.run(["cat", "/tmp/note"]).stdout == b"hi\\n"

Each run is a `sandvisor do` in its own process (forking the sentry from an
application thread would tie the sandbox's life to that thread), so the API is safe
to use from threads and from asyncio (`await sb.run_async(...)`). One such process is
kept warm (sentry/warm.py: the interpreter started and the sandbox's code imported),
so a run starts in about a quarter of a cold `sandvisor do`'s time.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Limits", "Result", "Sandbox", "Volume"]


@dataclass(frozen=True)
class Volume:
    """A host path bound into the sandbox, read-only unless told."""
    source: str
    target: str
    readonly: bool = True

    def spec(self) -> str:
        return f"{self.source}:{self.target}:{'ro' if self.readonly else 'rw'}"


@dataclass(frozen=True)
class Limits:
    """Each limit ends the run with `Result.limit` naming it. Sizes are bytes or
    strings such as "256m"."""
    memory: int | str | None = None
    pids: int | None = None
    cpu_seconds: int | None = None
    wall_seconds: float | None = None
    output_bytes: int | None = None     # stdout + stderr
    disk_bytes: int | str | None = None  # the writable layer
    cpus: str | None = None             # a cpuset, e.g. "0" or "0-2,5" (root: a cgroup)


@dataclass
class Result:
    """What one run did: its status, its output, the limit it reached."""
    status: int                      # sandvisor's exit status (128+N for signal N)
    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    limit: str | None = None         # memory | pids | cpu | time | output | disk
    reason: str = ""
    usage: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 0


class Sandbox:
    def __init__(self, root: str = "/", *, volumes: Sequence[Volume] = (),
                 network: str = "none", limits: Limits | None = None,
                 env: dict[str, str] | None = None, cwd: str = "/", user: str | None = None,
                 hostname: str = "sandvisor", platform: str = "auto",
                 audit_log: str | None = None):
        self.root = root
        self.volumes = list(volumes)
        self.network = network
        self.limits = limits or Limits()
        self.env = env
        self.cwd = cwd
        self.user = user
        self.hostname = hostname
        self.platform = platform
        self.audit_log = audit_log
        self._layer: str | None = None   # the shared writable layer of a `with` block

    # -- one sandbox for several runs -----------------------------------------------
    def __enter__(self) -> "Sandbox":
        self._layer = tempfile.mkdtemp(prefix="sandvisor-layer-")
        return self

    def __exit__(self, *exc) -> None:
        if self._layer:
            shutil.rmtree(self._layer, ignore_errors=True)
            self._layer = None

    async def __aenter__(self) -> "Sandbox":
        return self.__enter__()

    async def __aexit__(self, *exc) -> None:
        self.__exit__(*exc)

    # -- running ------------------------------------------------------------------
    def do_args(self, argv: Sequence[str], result_json: str) -> list[str]:
        """The `sandvisor do` arguments for `argv`."""
        lim = self.limits
        cmd = ["do", "--root", self.root, "--network", self.network, "--cwd", self.cwd,
               "--hostname", self.hostname, "--platform", self.platform,
               "--result-json", result_json]
        if self._layer:
            cmd += ["--overlay", f"dir={self._layer}"]
        for vol in self.volumes:
            cmd += ["-v", vol.spec()]
        if self.user:
            cmd += ["--user", self.user]
        if lim.memory is not None:
            cmd += ["--memory", str(lim.memory)]
        if lim.pids is not None:
            cmd += ["--pids-limit", str(lim.pids)]
        if lim.cpu_seconds is not None:
            cmd += ["--cpu-seconds", str(lim.cpu_seconds)]
        if lim.wall_seconds is not None:
            cmd += ["--timeout", str(lim.wall_seconds)]
        if lim.disk_bytes is not None:
            cmd += ["--disk", str(lim.disk_bytes)]
        if lim.cpus is not None:
            cmd += ["--cpuset-cpus", lim.cpus]
        if self.audit_log:
            cmd += ["--audit-log", self.audit_log]
        return cmd + ["--", *argv]

    def _env(self) -> dict[str, str]:
        return dict(os.environ) if self.env is None else dict(self.env)

    def _start(self, argv: Sequence[str]) -> "_Run":
        tmp = tempfile.TemporaryDirectory(prefix="sandvisor-run-")
        result_json = os.path.join(tmp.name, "result.json")
        try:
            proc = _workers.run(self.do_args(argv, result_json), self._env(), os.getcwd())
        except BaseException:
            tmp.cleanup()
            raise
        return _Run(proc, tmp, result_json, self.limits.output_bytes)

    def run(self, argv: Sequence[str], input: bytes | None = None) -> Result:
        return self._start(argv).finish(input)

    async def run_async(self, argv: Sequence[str], input: bytes | None = None) -> Result:
        """run() without blocking the event loop; cancelling it kills the sandbox."""
        job = self._start(argv)
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def finish() -> None:   # a thread per run: no executor's cap on concurrent runs
            try:
                result = job.finish(input)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                _settle_from_thread(loop, done, None, exc)
            else:
                _settle_from_thread(loop, done, result, None)

        threading.Thread(target=finish, name="sandvisor-run", daemon=True).start()
        try:
            return await done
        except asyncio.CancelledError:
            job.proc.kill()   # the sentry dies; every sandboxed process dies with it
            raise


def _settle(future: asyncio.Future, result, exc) -> None:
    if not future.done():
        future.set_exception(exc) if exc is not None else future.set_result(result)


def _settle_from_thread(loop, future: asyncio.Future, result, exc) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:
        pass   # the loop closed meanwhile (the run was cancelled with it)


class _Run:
    """One started run: its sentry process and where its result will be."""

    def __init__(self, proc: subprocess.Popen, tmp, result_json: str, cap: int | None):
        self.proc, self.tmp, self.result_json, self.cap = proc, tmp, result_json, cap

    def finish(self, input: bytes | None) -> Result:
        try:
            out, err, flooded = _collect(self.proc, input, self.cap)
            return _result(self.proc.returncode, out, err, flooded, self.result_json)
        finally:
            self.tmp.cleanup()


class _Workers:
    """Warm `sandvisor do` processes (sentry/warm.py): one spare waits, with its
    imports done, on a pipe only this process holds; a run takes it and a new spare
    starts at once, so its start-up overlaps the run. A spare whose pipe closes (this
    process exited, or forked and let it go) exits on its own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spare: tuple[subprocess.Popen, int] | None = None
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child: the spare is the parent's; the child's copy of its pipe
        would keep it waiting after the parent let it go."""
        if self.spare is not None:
            os.close(self.spare[1])
        self.spare = None
        self.lock = threading.Lock()

    def run(self, do_args: list[str], env: dict[str, str], cwd: str) -> subprocess.Popen:
        request = json.dumps({"argv": do_args, "env": env, "cwd": cwd,
                              **_inherited()}).encode()
        try:
            for _attempt in range(2):
                with self.lock:
                    worker, self.spare = self.spare, None
                proc, control = worker or _spawn_worker()
                try:
                    _write_all(control, request)
                except BrokenPipeError:   # the spare died while waiting (killed, OOM)
                    proc.wait()
                    continue
                finally:
                    os.close(control)
                return proc
            raise RuntimeError("the warm worker died before its run; see its stderr")
        finally:
            self._replenish()   # after the run has its worker: it starts first

    def _replenish(self) -> None:
        with self.lock:
            if self.spare is None:
                self.spare = _spawn_worker()

    def release(self) -> None:
        with self.lock:
            worker, self.spare = self.spare, None
        if worker is not None:
            os.close(worker[1])    # end of file: the spare exits
            try:
                worker[0].wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker[0].kill()
                worker[0].wait()


def _spawn_worker() -> tuple[subprocess.Popen, int]:
    read_end, write_end = os.pipe()   # not inheritable: only the spare gets read_end
    try:
        proc = subprocess.Popen([sys.executable, "-m", "sentry.warm", str(read_end)],
                                pass_fds=(read_end,), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return proc, write_end


def _inherited() -> dict:
    """What a child started now would inherit and a spare started earlier may not
    have: the umask and the resource limits, as they are at the run."""
    import resource
    with open("/proc/self/status", "rb") as f:   # os.umask can only set it: racy
        mask = int(next(line for line in f if line.startswith(b"Umask:")).split()[1], 8)
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in dir(resource) if name.startswith("RLIMIT_")}
    return {"umask": mask, "rlimits": limits}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_workers = _Workers()
atexit.register(_workers.release)


def _collect(proc: subprocess.Popen, input: bytes | None, cap: int | None):
    """Read stdout and stderr; past `cap` bytes in all, kill the sandbox."""
    import selectors
    if input:
        try:
            proc.stdin.write(input)
        except BrokenPipeError:
            pass
    proc.stdin.close()
    bufs = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    sel = selectors.DefaultSelector()
    for stream in bufs:
        sel.register(stream, selectors.EVENT_READ)
    flooded = False
    while sel.get_map():
        for key, _ in sel.select():
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            bufs[key.fileobj] += chunk
            if cap is not None and sum(map(len, bufs.values())) > cap and not flooded:
                flooded = True
                proc.kill()   # the sentry dies; every sandboxed process dies with it
    proc.wait()
    return bytes(bufs[proc.stdout]), bytes(bufs[proc.stderr]), flooded


def _result(returncode: int, out: bytes, err: bytes, flooded: bool, result_json: str) -> Result:
    try:
        with open(result_json) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {"status": returncode, "exit_code": None, "signal": None,
                "reason": err.decode(errors="replace").strip().splitlines()[-1:] and
                err.decode(errors="replace").strip().splitlines()[-1] or "", "limit": None}
    res = Result(data["status"], data.get("exit_code"), data.get("signal"), out, err,
                 data.get("limit"), data.get("reason") or "", data.get("usage") or {})
    if flooded:
        res.limit, res.reason = "output", "the output limit was reached"
    return res
