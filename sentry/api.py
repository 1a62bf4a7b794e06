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
to use from threads and from asyncio (`await sb.run_async(...)`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Limits", "Result", "Sandbox", "Volume"]


@dataclass(frozen=True)
class Volume:
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


@dataclass
class Result:
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
    def command(self, argv: Sequence[str], result_json: str) -> list[str]:
        """The `sandvisor do` command line for `argv`."""
        lim = self.limits
        cmd = [sys.executable, "-m", "sentry", "do", "--root", self.root, "--network",
               self.network, "--cwd", self.cwd, "--hostname", self.hostname, "--platform",
               self.platform, "--result-json", result_json]
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
        if self.audit_log:
            cmd += ["--audit-log", self.audit_log]
        return cmd + ["--", *argv]

    def _env(self) -> dict[str, str]:
        return dict(os.environ) if self.env is None else dict(self.env)

    def run(self, argv: Sequence[str], input: bytes | None = None) -> Result:
        with tempfile.TemporaryDirectory(prefix="sandvisor-run-") as tmp:
            result_json = os.path.join(tmp, "result.json")
            proc = subprocess.Popen(self.command(argv, result_json), env=self._env(),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            out, err, flooded = _collect(proc, input, self.limits.output_bytes)
            return _result(proc.returncode, out, err, flooded, result_json)

    async def run_async(self, argv: Sequence[str], input: bytes | None = None) -> Result:
        with tempfile.TemporaryDirectory(prefix="sandvisor-run-") as tmp:
            result_json = os.path.join(tmp, "result.json")
            proc = await asyncio.create_subprocess_exec(
                *self.command(argv, result_json), env=self._env(), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err, flooded = await _collect_async(proc, input, self.limits.output_bytes)
            return _result(proc.returncode, out, err, flooded, result_json)


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


async def _collect_async(proc, input: bytes | None, cap: int | None):
    total = 0
    flooded = False

    async def pump(stream, buf: bytearray):
        nonlocal total, flooded
        while chunk := await stream.read(65536):
            buf += chunk
            total += len(chunk)
            if cap is not None and total > cap and not flooded:
                flooded = True
                proc.kill()

    if input:
        proc.stdin.write(input)
    proc.stdin.close()
    out, err = bytearray(), bytearray()
    await asyncio.gather(pump(proc.stdout, out), pump(proc.stderr, err))
    await proc.wait()
    return bytes(out), bytes(err), flooded


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
