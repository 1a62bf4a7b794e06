"""`python -m bench api`: how long a sandbox takes to start through the Python API
(sentry/api.py, with its warm worker, sentry/warm.py) against a cold `sandvisor do`
and against the program run natively. The program is the start workload's static
`true` that prints `ok`; every run's output and status are checked, and a failed run
fails its row instead of timing it.

Rows: native (subprocess.run), `sandvisor do` (cold: interpreter, imports, sandbox),
the API after a pause (the spare has finished its imports: a caller that does
something between runs), and the API back to back (each run also starts the next
spare, so part of its start-up is paid by the run after it)."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from typing import Callable

from bench.driver import sandvisor_prefix
from bench.workloads import BY_NAME

PAUSE = 0.3   # seconds between "after a pause" runs: the spare's imports take ~0.1 s


def _time(run: Callable[[], tuple[int, bytes]], runs: int, pause: float) -> dict:
    samples, failure = [], None
    for _ in range(runs):
        if pause:
            time.sleep(pause)
        start = time.perf_counter()
        status, out = run()
        elapsed = (time.perf_counter() - start) * 1000
        if status != 0 or out.strip() != b"ok":
            failure = f"status {status}, output {out[:80]!r}"
            break
        samples.append(elapsed)
    if failure:
        return {"status": "failed", "why": failure}
    return {"status": "ok", "ms": samples, "median": statistics.median(samples),
            "min": min(samples), "max": max(samples)}


def measure(runs: int = 20, quick: bool = False) -> dict[str, dict]:
    from sentry.api import Sandbox
    argv = BY_NAME["start"].prepare(quick).argv
    cold = sandvisor_prefix() + argv
    sandbox = Sandbox()

    def native():
        done = subprocess.run(argv, stdout=subprocess.PIPE)
        return done.returncode, done.stdout

    def cli():
        done = subprocess.run(cold, stdout=subprocess.PIPE)
        return done.returncode, done.stdout

    def api():
        result = sandbox.run(argv)
        return result.status, result.stdout

    api()   # the first run starts the spare
    return {"native": _time(native, runs, 0),
            "sandvisor do (cold)": _time(cli, runs, 0),
            "API, after a pause": _time(api, runs, PAUSE),
            "API, back to back": _time(api, runs, 0)}


def markdown(rows: dict[str, dict]) -> str:
    lines = ["| start of a static `true` | median ms | min–max ms |", "| --- | ---: | ---: |"]
    for name, row in rows.items():
        if row["status"] != "ok":
            lines.append(f"| {name} | **FAILED** | {row['why']} |")
        else:
            lines.append(f"| {name} | **{row['median']:.1f}** | "
                         f"{row['min']:.1f}–{row['max']:.1f} |")
    return "\n".join(lines)


def main(runs: int, quick: bool, json_path: str | None) -> int:
    rows = measure(runs, quick)
    print(markdown(rows))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if any(r["status"] != "ok" for r in rows.values()) else 0
