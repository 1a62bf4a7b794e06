"""Load workloads: many sandboxes at once, and one sandbox with many threads.

- `load-builds`: N sandboxes (20) started at once, each copying a generated C project
  (10 modules + main + Makefile) into its own `mktemp -d`, building it with `make -j2`,
  running the program and checking what it prints (each instance gets its own SEED, so
  a sandbox that printed another's answer would fail too). Reported: the wall time from
  the first start to the last exit, builds per second, and per-sandbox latency (median,
  p95, max).
- `load-threads`: one sandbox running bench/workloads/threads.c: 200 pthreads alive at
  once, each doing K iterations of a trapped syscall (umask, as the noop workload) and a
  host one (getppid), every result checked and every call timed by the program.
  Reported: syscalls per second over the loops and per-call latency (p50, p99, max).

Both are selected like every workload (`python -m bench --only load`, or `--load`), run
under the same targets (by default: native, sandvisor on every platform with the default
file-access mode, and runsc), and an instance that fails or prints the wrong result
makes the whole cell FAILED: a failing sandbox never counts as fast.
"""

from __future__ import annotations

import hashlib
import math
import os
import shlex
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from bench import driver
from bench.driver import Failure, Target, _fmt, _ratio, log, run_once
from bench.workloads import Prepared, _equals, build, cache_dir

MOD = 1_000_003       # keeps the generated arithmetic far from overflow in a C long
FUNCS_PER_MODULE = 12


@dataclass
class LoadParams:
    sandboxes: int = 20        # load-builds: sandboxes started at once
    modules: int = 10          # load-builds: C files besides main.c
    jobs: int = 2              # load-builds: make -jJOBS in each sandbox
    threads: int = 200         # load-threads: pthreads in the one sandbox
    iterations: int = 500      # load-threads: trapped + host calls per thread
    runs: int = 1              # every run already has many samples: keep it small

    @classmethod
    def defaults(cls, quick: bool = False) -> "LoadParams":
        return cls(sandboxes=4, modules=3, threads=20, iterations=50) if quick else cls()


# -- what each sandbox runs -------------------------------------------------------------

def _module_value(module: int, seed: int) -> int:
    """What f<module>(seed) returns in the generated C (the check's reference)."""
    x = seed
    for j in range(FUNCS_PER_MODULE):
        for k in range(j + 2):
            x = (x * (j + 3) + k + module) % MOD
    return x


def expected_build_output(modules: int, seed: int) -> str:
    total = sum(_module_value(m, seed) for m in range(modules))
    return f"seed={seed} sum={total}"


def build_project(modules: int) -> str:
    """A C project of MODULES files + main.c + Makefile, written once to the cache (which
    every sandbox sees); returns its directory."""
    files = {"common.h": "".join(f"long f{m}(long seed);\n" for m in range(modules))}
    for m in range(modules):
        body = ['#include "common.h"\n\n']
        for j in range(FUNCS_PER_MODULE):
            body.append(f"static long g{m}_{j}(long x) {{\n"
                        f"    for (int k = 0; k < {j + 2}; k++)\n"
                        f"        x = (x * {j + 3} + k + {m}) % {MOD};\n"
                        f"    return x;\n}}\n\n")
        body.append(f"long f{m}(long seed) {{\n    long x = seed;\n")
        body += [f"    x = g{m}_{j}(x);\n" for j in range(FUNCS_PER_MODULE)]
        body.append("    return x;\n}\n")
        files[f"m{m}.c"] = "".join(body)
    files["main.c"] = ('#include <stdio.h>\n#include "common.h"\n\nint main(void) {\n'
                       "    long sum = 0;\n"
                       + "".join(f"    sum += f{m}(SEED);\n" for m in range(modules))
                       + '    printf("seed=%d sum=%ld\\n", SEED, sum);\n    return 0;\n}\n')
    objs = " ".join(["main.o"] + [f"m{m}.o" for m in range(modules)])
    files["Makefile"] = (f"CC = gcc\nCFLAGS = -O2 -Wall -DSEED=$(SEED)\nOBJS = {objs}\n\n"
                         "prog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n"
                         "%.o: %.c common.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n")
    key = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:12]
    root = cache_dir() / "data" / f"load-build-{modules}-{key}"
    if not (root / "Makefile").exists():
        tmp = root.with_name(root.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (tmp / name).write_text(text)
        try:
            os.replace(tmp, root)
        except OSError:        # another process wrote the same tree first
            pass
    return str(root)


def plan_builds(params: LoadParams) -> list[Prepared]:
    src = build_project(params.modules)
    plans = []
    for seed in range(params.sandboxes):
        # the tree must be removable afterwards too: rm -rf in an overlay is work as well
        script = (f'd=$(mktemp -d) && cp -R {shlex.quote(src)}/. "$d" && '
                  f'make -s -j{params.jobs} -C "$d" SEED={seed} 1>&2 && "$d/prog"; '
                  f'rc=$?; rm -rf "$d"; test -e "$d" && rc=1; exit $rc')
        plans.append(Prepared(argv=["/bin/sh", "-c", script],
                              expect=_equals(expected_build_output(params.modules, seed))))
    return plans


@dataclass
class ThreadsCheck:
    """Checks threads.c's output (as a Prepared.expect) and keeps what it reported."""
    threads: int
    iterations: int
    values: dict = field(default_factory=dict)

    KEYS = ("threads", "distinct", "trapped_ok", "host_ok", "trapped_p50_ns",
            "trapped_p99_ns", "trapped_max_ns", "host_p50_ns", "host_p99_ns", "host_max_ns")

    def __call__(self, out: str) -> str | None:
        try:
            values = {k: int(v) for k, _, v in (w.partition("=") for w in out.split())}
        except ValueError:
            return f"unparsable output {out.strip()[:200]!r}"
        missing = [k for k in self.KEYS if k not in values]
        if missing:
            return f"no {', '.join(missing)} in {out.strip()[:200]!r}"
        calls = self.threads * self.iterations
        want = {"threads": self.threads, "distinct": self.threads, "trapped_ok": calls,
                "host_ok": calls}
        wrong = [f"{k}={values[k]} (want {v})" for k, v in want.items() if values[k] != v]
        if wrong:
            return "wrong result: " + ", ".join(wrong)
        for kind in ("trapped", "host"):
            p50, p99, top = (values[f"{kind}_{p}_ns"] for p in ("p50", "p99", "max"))
            if not 0 <= p50 <= p99 <= top:
                return f"{kind} latencies out of order: p50={p50} p99={p99} max={top}"
        self.values = values
        return None


def plan_threads(params: LoadParams) -> list[Prepared]:
    return [Prepared(argv=[build("threads"), str(params.threads), str(params.iterations)],
                     expect=ThreadsCheck(params.threads, params.iterations))]


# -- running: N instances at once -------------------------------------------------------

@dataclass
class Instance:
    """One sandbox of a load run."""
    index: int
    start: float = 0.0
    end: float = 0.0
    loop_s: float | None = None      # the program's own loop time (ns= line), if any
    error: str = ""
    values: dict = field(default_factory=dict)   # what the program reported (threads)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class LoadRun:
    instances: list[Instance]

    @property
    def wall(self) -> float:
        """First start to last exit: what N users sharing the machine wait for in all."""
        return max(i.end for i in self.instances) - min(i.start for i in self.instances)

    @property
    def failed(self) -> list[Instance]:
        return [i for i in self.instances if not i.ok]


def run_at_once(target: Target, plans: list[Prepared], timeout: float) -> LoadRun:
    """Start every plan under TARGET at the same moment (one thread each, released by a
    barrier), wait for all, and check each one's output."""
    instances = [Instance(i) for i in range(len(plans))]
    barrier = threading.Barrier(len(plans))

    def one(inst: Instance, prep: Prepared) -> None:
        barrier.wait()
        inst.start = time.perf_counter()
        try:
            _, inst.loop_s = run_once(target.prefix, prep.argv, prep.expect, timeout,
                                      target.env)
        except Failure as exc:
            inst.error = str(exc)
        inst.end = time.perf_counter()
        # a ThreadsCheck keeps what the program reported; a plain check has nothing
        inst.values = dict(getattr(prep.expect, "values", {}))

    workers = [threading.Thread(target=one, args=(inst, prep), daemon=True)
               for inst, prep in zip(instances, plans)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return LoadRun(instances)


# -- statistics -------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as threads.c computes it: never below the median, never above max."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p95": percentile(values, 0.95),
            "max": max(values), "min": min(values)}


def summarize_builds(runs: list[LoadRun], params: LoadParams) -> dict:
    walls = [r.wall for r in runs]
    latencies = [i.latency for r in runs for i in r.instances]
    wall = statistics.median(walls)
    return {"wall_s": wall, "wall_samples": [round(w, 4) for w in walls],
            "throughput_per_s": params.sandboxes / wall,
            "latency_s": _spread(latencies),
            "latency_samples": [round(x, 4) for x in latencies]}


def summarize_threads(runs: list[LoadRun], params: LoadParams) -> dict:
    inst = [r.instances[0] for r in runs]
    calls = 2 * params.threads * params.iterations        # one trapped + one host each
    rates = [calls / i.loop_s for i in inst if i.loop_s]
    out = {"wall_s": statistics.median(i.latency for i in inst),
           "wall_samples": [round(i.latency, 4) for i in inst],
           "loop_samples": [round(i.loop_s, 4) for i in inst if i.loop_s],
           "syscalls_per_s": statistics.median(rates) if rates else None,
           "trapped_per_s": statistics.median(rates) / 2 if rates else None,
           "program": [i.values for i in inst]}
    for kind in ("trapped", "host"):
        out[f"{kind}_ns"] = {
            "p50": statistics.median(i.values[f"{kind}_p50_ns"] for i in inst),
            "p99": statistics.median(i.values[f"{kind}_p99_ns"] for i in inst),
            "max": max(i.values[f"{kind}_max_ns"] for i in inst)}
    return out


@dataclass
class LoadWorkload:
    name: str
    title: str
    plan: Callable[[LoadParams], list[Prepared]]          # one Prepared per instance
    summarize: Callable[[list[LoadRun], LoadParams], dict]
    notes: str = ""
    kind: str = "load"

    def describe(self, params: LoadParams) -> str:
        if self.name == "load-builds":
            return (f"{params.sandboxes} sandboxes at once, each `make -j{params.jobs}` of "
                    f"{params.modules + 1} C files, then the program's output checked")
        return (f"one sandbox, {params.threads} threads x {params.iterations} x "
                f"(umask trapped + getppid host), every result checked")


LOAD_WORKLOADS: list[LoadWorkload] = [
    LoadWorkload("load-builds", "parallel builds", plan_builds, summarize_builds,
                 notes="N sandboxes started at once; each copies a generated C project "
                 "into mktemp -d, make -j2, runs it; wall = first start to last exit"),
    LoadWorkload("load-threads", "threads in syscalls", plan_threads, summarize_threads,
                 notes="one sandbox; the threads wait at a barrier, then each does K x "
                 "(umask(022), getppid) timing every call"),
]
LOAD_BY_NAME = {w.name: w for w in LOAD_WORKLOADS}


@dataclass
class LoadCell:
    status: str = "ok"                       # ok | failed
    runs: list[LoadRun] = field(default_factory=list)
    error: str = ""
    failed_instances: int = 0


def default_targets(targets: list[Target]) -> list[Target]:
    """Native, sandvisor on every platform with the default file-access mode, runsc, and
    any --target-cmd: 20 builds x every target and mode would take long on 2 cores."""
    mode = driver.default_file_access()
    keep = []
    for t in targets:
        if t.kind == "sandvisor":
            if mode is None or t.name.endswith("-" + mode):
                keep.append(t)
        elif t.kind in ("native", "custom") or t.name.startswith("runsc"):
            keep.append(t)
    return keep


def run_load(workloads: list[LoadWorkload], targets: list[Target], params: LoadParams,
             timeout: float) -> dict[str, dict]:
    """Run every load workload under every target, runs interleaved as in the driver;
    returns {workload: {target: cell dict}} for the report."""
    if driver.HOST_TMP:
        os.makedirs(driver.SHM_TMP, exist_ok=True)
    results: dict[str, dict] = {}
    for w in workloads:
        cells = {t.name: LoadCell() for t in targets}
        for r in range(params.runs):
            for t in targets:
                cell = cells[t.name]
                if cell.status != "ok":
                    continue     # failed once: reported as failed, never timed
                try:
                    plans = w.plan(params)
                except Exception as exc:  # noqa: BLE001
                    cell.status, cell.error = "failed", f"cannot prepare: {exc}"
                    log(f"  {w.name} / {t.name}: cannot prepare: {exc}")
                    continue
                run = run_at_once(t, plans, timeout)
                if run.failed:
                    first = run.failed[0]
                    cell.status, cell.failed_instances = "failed", len(run.failed)
                    cell.error = (f"{len(run.failed)} of {len(run.instances)} failed; "
                                  f"#{first.index}: {first.error}")
                    cell.runs.clear()
                    log(f"  {w.name} / {t.name}: FAILED: {cell.error}")
                else:
                    cell.runs.append(run)
                    log(f"{w.name} run {r + 1}/{params.runs} / {t.name}: "
                        f"{len(run.instances)} ok in {_fmt(run.wall)} s")
        results[w.name] = {n: _cell_stats(w, c, params) for n, c in cells.items()}
        _add_ratios(results[w.name])
    return results


def _cell_stats(w: LoadWorkload, cell: LoadCell, params: LoadParams) -> dict:
    out: dict = {"status": cell.status, "runs": len(cell.runs)}
    if cell.status == "ok" and cell.runs:
        out["instances"] = len(cell.runs[0].instances)
        out.update(w.summarize(cell.runs, params))
    else:
        out["failed_instances"] = cell.failed_instances
    if cell.error:
        out["error"] = cell.error
    return out


def _add_ratios(row: dict) -> None:
    """Time ratios to native, as in the main table (higher = slower)."""
    native = row.get("native", {})
    if native.get("status") != "ok":
        return
    for name, st in row.items():
        if name == "native" or st["status"] != "ok":
            continue
        ratios = {}
        if "latency_s" in st:
            ratios["wall"] = st["wall_s"] / native["wall_s"]
            ratios["latency_median"] = (st["latency_s"]["median"]
                                        / native["latency_s"]["median"])
        if st.get("syscalls_per_s") and native.get("syscalls_per_s"):
            ratios["throughput"] = native["syscalls_per_s"] / st["syscalls_per_s"]
            if native["trapped_ns"]["p50"] > 0:
                ratios["trapped_p50"] = st["trapped_ns"]["p50"] / native["trapped_ns"]["p50"]
        st["ratio_native"] = ratios


# -- output -----------------------------------------------------------------------------

def _range(samples: list[float], fmt: str | None = None) -> str:
    """' (min–max)' of the runs, when there was more than one."""
    if len(samples) < 2:
        return ""
    show = fmt.format if fmt else _fmt
    return f" ({show(min(samples))}–{show(max(samples))})"


def markdown(report: dict) -> list[str]:
    """The load tables: one row per target (a load cell has too many figures for the
    workload x target grid of the main table)."""
    params = LoadParams(**report["config"]["load"])
    lines: list[str] = []
    for w in report["workloads"]:
        if w["kind"] != "load":
            continue
        wl = LOAD_BY_NAME[w["name"]]
        row = report["results"][w["name"]]
        runs = (f"median of {params.runs} runs (min–max of the runs)" if params.runs > 1
                else "1 run")
        lines += ["", f"**{w['name']}**: {wl.describe(params)}; {runs}.", ""]
        if w["name"] == "load-builds":
            lines += [f"| target | all {params.sandboxes} done, s | builds/s | "
                      "latency median, s | p95, s | max, s | vs native (wall / median) |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        else:
            lines += ["| target | syscalls/s | trapped: p50 µs | p99 µs | max ms | "
                      "host: p50 ns | p99 ns | sandbox wall, s | vs native (rate / trapped p50) |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, st in row.items():
            if st["status"] != "ok":
                error = st.get("error", "").replace("|", "\\|")   # stderr tails have |
                lines.append(f"| {name} | **FAILED**: {error} |")
                continue
            rat = st.get("ratio_native", {})
            if "latency_s" in st:
                lat = st["latency_s"]
                cells = [_fmt(st["wall_s"]) + _range(st["wall_samples"]),
                         _fmt(st["throughput_per_s"]),
                         _fmt(lat["median"]), _fmt(lat["p95"]), _fmt(lat["max"]),
                         " / ".join(_ratio(rat.get(k)) for k in ("wall", "latency_median"))
                         if rat else "-"]
            else:
                tr, ho = st["trapped_ns"], st["host_ns"]
                calls = 2 * params.threads * params.iterations
                rates = [calls / x for x in st["loop_samples"] if x > 0]
                cells = [f"{st['syscalls_per_s']:,.0f}" + _range(rates, "{:,.0f}")
                         if st["syscalls_per_s"] else "-",
                         _fmt(tr["p50"] / 1e3), _fmt(tr["p99"] / 1e3), _fmt(tr["max"] / 1e6),
                         _fmt(ho["p50"]), _fmt(ho["p99"]), _fmt(st["wall_s"]),
                         " / ".join(_ratio(rat.get(k)) for k in ("throughput", "trapped_p50"))
                         if rat else "-"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def describe(workloads: list[LoadWorkload], params: LoadParams) -> list[dict]:
    """The report's entries for WORKLOADS, shaped like the driver's."""
    return [{"name": w.name, "title": w.title, "unit": "s", "kind": w.kind, "goal": "",
             "notes": w.notes, "what": w.describe(params)} for w in workloads]


