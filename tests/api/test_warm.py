"""The API's warm worker (sentry/warm.py): a spare `sandvisor do` that has done its
imports serves the next run, with that run's environment and working directory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

from sentry import api
from sentry.api import Sandbox


def _spare_proc() -> subprocess.Popen:
    spare = api._workers.spare
    assert spare is not None, "a run leaves a spare behind"
    return spare[0]


def test_warm_spare_serves_the_next_run():
    Sandbox().run(["true"])
    spare = _spare_proc()
    assert spare.poll() is None            # waiting, imports done or under way
    result = Sandbox().run(["sh", "-c", "exit 7"])
    assert result.exit_code == 7
    assert spare.wait(timeout=10) == 7     # that process was the run's sentry
    assert _spare_proc().pid != spare.pid  # and a new spare took its place


def test_warm_spare_takes_the_environment_and_cwd_of_its_run(tmp_path, monkeypatch):
    Sandbox().run(["true"])                 # the spare now predates what follows
    monkeypatch.setenv("SV_WARM_LATE", "set-after-the-spare")
    monkeypatch.chdir(tmp_path)
    result = Sandbox(audit_log="audit.jsonl").run(["sh", "-c", "echo $SV_WARM_LATE"])
    assert result.stdout == b"set-after-the-spare\n"
    assert (tmp_path / "audit.jsonl").exists()   # a relative path, from the run's cwd


def test_warm_spare_takes_the_umask_and_rlimits_of_its_run():
    import resource
    Sandbox().run(["true"])                 # the spare predates the changes below
    old_mask = os.umask(0o077)
    old_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, old_nofile[1]))
    try:
        result = Sandbox().run(["sh", "-c", "umask; ulimit -n"])
    finally:
        os.umask(old_mask)
        resource.setrlimit(resource.RLIMIT_NOFILE, old_nofile)
    assert result.stdout == b"0077\n512\n", result


def test_warm_spare_exits_when_released():
    Sandbox().run(["true"])
    spare = _spare_proc()
    api._workers.release()
    assert spare.wait(timeout=10) == 0
    assert api._workers.spare is None
    assert Sandbox().run(["echo", "again"]).stdout == b"again\n"   # cold, then warm again


def test_run_async_cancelled_kills_the_sandbox():
    marker = "31.4159"

    def sleeping() -> bool:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read() == b"sleep\0" + marker.encode() + b"\0":
                        return True
            except OSError:
                pass
        return False

    async def main():
        task = asyncio.create_task(Sandbox().run_async(["sleep", marker]))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if sleeping():
                break
        assert sleeping(), "the sandboxed sleep never started"
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the cancelled run returned")

    asyncio.run(main())
    deadline = time.monotonic() + 10
    while sleeping() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sleeping()


def _warm(payload: bytes) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "sentry.warm", str(read_end)],
                            pass_fds=(read_end,), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    os.close(read_end)
    os.write(write_end, payload)
    os.close(write_end)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_warm_worker_refuses_a_malformed_request():
    done = _warm(b"{not json")
    assert done.returncode == 125
    assert b"bad request" in done.stderr


def test_warm_worker_without_a_request_exits_quietly():
    done = _warm(b"")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_warm_worker_runs_a_request_as_sandvisor_do(tmp_path):
    request = {"argv": ["do", "--", "sh", "-c", "echo $GREETING; pwd; umask"],
               "env": {"GREETING": "hello", "PATH": os.environ["PATH"]},
               "cwd": str(tmp_path), "umask": 0o027, "rlimits": {}}
    done = _warm(json.dumps(request).encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"hello\n{tmp_path}\n0027\n".encode()


def test_warm_worker_refuses_an_unknown_rlimit():
    request = {"argv": ["do", "--", "true"], "env": {}, "cwd": "/", "umask": 0o22,
               "rlimits": {"RLIMIT_BOGUS": [1, 1]}}
    done = _warm(json.dumps(request).encode())
    assert done.returncode == 125
    assert b"unknown resource limit 'RLIMIT_BOGUS'" in done.stderr
