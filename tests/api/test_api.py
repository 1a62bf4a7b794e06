"""The Python API and the limits: each limit ends the run with its reason."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap

import pytest

import sentry.api
from sentry.api import Limits, Sandbox, Volume
from tests.conftest import run_do


def test_module_docstring_examples_run():
    block = re.search(r"\n(    from sentry.api.*?)\n\nEach run", sentry.api.__doc__, re.S).group(1)
    exec(textwrap.dedent(block), {})  # the asserts inside are the test


def test_run_returns_output_status_and_usage():
    res = Sandbox().run(["sh", "-c", "read x; echo got $x; echo err >&2; exit 3"], input=b"in\n")
    assert (res.status, res.exit_code, res.stdout, res.stderr) == (3, 3, b"got in\n", b"err\n")
    assert res.limit is None and "user_seconds" in res.usage


def test_run_async_and_concurrent_runs():
    async def main():
        sb = Sandbox()
        return await asyncio.gather(*(sb.run_async(["sh", "-c", f"echo {i}"]) for i in range(3)))
    results = asyncio.run(main())
    assert [r.stdout for r in results] == [b"0\n", b"1\n", b"2\n"]


def test_context_manager_shares_files_between_runs_and_not_with_the_host(tmp_path):
    with Sandbox() as sb:
        assert sb.run(["sh", "-c", "echo kept > /tmp/api-note"]).ok
        assert sb.run(["cat", "/tmp/api-note"]).stdout == b"kept\n"
    assert not (tmp_path / "api-note").exists()
    assert Sandbox().run(["cat", "/tmp/api-note"]).status == 1


def test_volume_and_network_none(tmp_path):
    (tmp_path / "in.txt").write_text("data")
    res = Sandbox(volumes=[Volume(str(tmp_path), "/work", readonly=True)]).run(
        ["sh", "-c", "cat /work/in.txt; echo x > /work/new"])
    assert res.stdout == b"data" and b"Read-only file system" in res.stderr


def test_fork_bomb_hits_the_pids_limit():
    res = Sandbox(limits=Limits(pids=30, wall_seconds=30)).run(
        ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 2"])
    assert res.limit == "pids"


def test_memory_hog_hits_the_memory_limit():
    res = Sandbox(limits=Limits(memory="64m")).run(
        ["python3", "-c", "b = bytearray(300 * 1024 * 1024); print(len(b))"])
    assert res.limit == "memory" and res.signal == 9 and res.stdout == b""


def test_infinite_loop_hits_the_cpu_limit():
    res = Sandbox(limits=Limits(cpu_seconds=1)).run(["python3", "-c", "while True: pass"])
    assert res.limit == "cpu"


def test_cpuset_confines_the_run():
    res = Sandbox(limits=Limits(cpus="1")).run(["grep", "Cpus_allowed_list", "/proc/self/status"])
    assert res.ok and res.stdout.split()[-1] == b"1", res.stderr


def test_blocked_program_hits_the_wall_limit():
    res = Sandbox(limits=Limits(wall_seconds=1)).run(["sleep", "30"])
    assert res.limit == "time" and res.status == 124


def test_disk_filler_hits_the_disk_limit():
    res = Sandbox(limits=Limits(disk_bytes="8m")).run(
        ["sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=64"])
    assert res.limit == "disk" and b"No space left on device" in res.stderr


def test_output_flood_hits_the_output_limit():
    res = Sandbox(limits=Limits(output_bytes=100_000)).run(["sh", "-c", "yes flood"])
    assert res.limit == "output"
    assert 100_000 <= len(res.stdout) < 10_000_000


def test_audit_log_records_decisions_and_a_summary(tmp_path):
    log = tmp_path / "audit.jsonl"
    res = run_do(["--audit-log", str(log), "--", "cat", "/etc/hostname", "/no/such"])
    assert res.returncode == 1
    records = [json.loads(line) for line in log.read_text().splitlines()]
    opens = [r for r in records[:-1] if r["syscall"] == "openat"]
    assert any(r["args"][1] == "'/no/such'" and "ENOENT" in r["result"] for r in opens)
    assert all({"time", "pid", "syscall", "args", "disposition", "result"} <= set(r)
               for r in records[:-1])
    summary = records[-1]["summary"]
    assert summary["exit"]["exit_code"] == 1 and summary["syscalls"] == len(records) - 1


@pytest.mark.parametrize("args,needle", [
    (["--memory", "lots"], "--memory 'lots': give bytes"),
    (["--disk", "8m", "--overlay", "none"], "--disk limits the memory overlay"),
    (["--pids-limit", "0"], "--pids-limit 0: give a positive number"),
])
def test_bad_limits_exit_125(args, needle):
    res = run_do([*args, "--", "true"])
    assert res.returncode == 125 and needle in res.stderr
