"""The benchmark driver: targets, interleaved runs, statistics, JSON/Markdown/PNG output.

Targets are what a workload runs under: `native`, `sandvisor-PLATFORM` for every usable
platform (and every file-access mode, should `sandvisor do` grow such an option), and
every peer installed (`runsc` with the ptrace platform, `proot`, `bwrap` for reference).
Runs are interleaved: run 1 of a workload under every target, then run 2, ... so a noisy
moment hurts every target alike.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform as _platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.workloads import BY_NAME, WORKLOADS, Prepared, Workload

if TYPE_CHECKING:
    from bench.load import LoadParams   # bench.load imports this module

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root",
       "LANG": "C.UTF-8", "TERM": "dumb"}
RUNSC_PLATFORM = "ptrace"
# Scratch space (mktemp -d in the untar and gcc workloads) in memory for every target:
# sandvisor's default overlay, runsc's overlay and bwrap's --tmpfs /tmp are in memory, so
# the targets that write to the host (native, proot) get TMPDIR on the host's tmpfs
# /dev/shm rather than a disk-backed /tmp.
SHM_TMP = "/dev/shm/sandvisor-bench"
HOST_TMP = {"TMPDIR": SHM_TMP} if os.path.isdir("/dev/shm") else {}


@dataclass
class Target:
    name: str
    prefix: list[str]
    available: bool = True
    reason: str = ""
    kind: str = "peer"          # native | sandvisor | peer | custom
    env: dict = field(default_factory=dict)   # added to ENV for this target

    def command(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return (env + " " if env else "") + (shlex.join(self.prefix) if self.prefix else "(none)")


def sandvisor_prefix(platform: str | None = None, extra: list[str] | None = None) -> list[str]:
    # the installed `sandvisor` script, as users run it (`-m` adds runpy's start-up)
    script = os.path.join(os.path.dirname(sys.executable), "sandvisor")
    prefix = [script, "do"] if os.access(script, os.X_OK) else [sys.executable, "-m", "sentry", "do"]
    if platform:
        prefix += ["--platform", platform]
    return prefix + list(extra or []) + ["--"]


def _file_access_modes() -> tuple[str, list[str]] | None:
    """If `sandvisor do` has a file-access option (gofer/directfs...), its flag and choices."""
    try:
        from sentry.cli.do import do
    except Exception:  # noqa: BLE001
        return None
    import click
    for param in do.params:
        if not isinstance(param, click.Option) or not isinstance(param.type, click.Choice):
            continue
        if any(key in param.name for key in ("file_access", "directfs", "fsmode", "gofer")):
            return param.opts[0], list(param.type.choices)
    return None


def default_file_access() -> str | None:
    """The file-access mode `sandvisor do` uses when not told (None: no such option)."""
    modes = _file_access_modes()
    if not modes:
        return None
    from sentry.cli.do import do      # importable: _file_access_modes just did
    param = next(p for p in do.params if p.opts and p.opts[0] == modes[0])
    return param.default if param.default in modes[1] else None


def discover_targets() -> list[Target]:
    targets = [Target("native", [], kind="native", env=HOST_TMP)]
    try:
        from sentry.platform import probe_all
        probes = probe_all()
    except Exception as exc:  # noqa: BLE001
        targets.append(Target("sandvisor", sandvisor_prefix(), False,
                              f"cannot probe platforms: {exc}", "sandvisor"))
        probes = []
    modes = _file_access_modes()
    for probe in probes:
        if modes:
            flag, choices = modes
            for choice in choices:
                targets.append(Target(f"sandvisor-{probe.name}-{choice}",
                                      sandvisor_prefix(probe.name, [flag, choice]),
                                      probe.usable, probe.reason, "sandvisor"))
        else:
            targets.append(Target(f"sandvisor-{probe.name}", sandvisor_prefix(probe.name),
                                  probe.usable, "" if probe.usable else probe.reason,
                                  "sandvisor"))
    default = next((p for p in probes if p.usable), None)
    if default is not None:
        # the whole sandbox on one CPU: the wake-ups a descriptor's injection needs stay
        # on it (docs/BENCH.md); a cpuset is a cgroup, so root only
        cpu = min(os.sched_getaffinity(0))
        root = os.geteuid() == 0
        access = default_file_access()
        name = f"sandvisor-{default.name}-{access}" if access else f"sandvisor-{default.name}"
        targets.append(Target(f"{name}-cpu{cpu}",
                              sandvisor_prefix(default.name, ["--cpuset-cpus", str(cpu)]),
                              root, "" if root else "--cpuset-cpus needs root (a cgroup)",
                              "sandvisor"))
    runsc = shutil.which("runsc")
    targets.append(Target(f"runsc-{RUNSC_PLATFORM}",
                          [runsc or "runsc", "--network=none", f"--platform={RUNSC_PLATFORM}",
                           "do", "--"],
                          bool(runsc), "" if runsc else "not installed"))
    proot = shutil.which("proot")
    targets.append(Target("proot", [proot or "proot"], bool(proot),
                          "" if proot else "not installed", env=HOST_TMP))
    bwrap = shutil.which("bwrap")
    targets.append(Target("bwrap", [bwrap or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev",
                                    "--proc", "/proc", "--tmpfs", "/tmp", "--unshare-all",
                                    "--die-with-parent", "--"],
                          bool(bwrap), "" if bwrap else "not installed"))
    return targets


# -- running ----------------------------------------------------------------------------

class Failure(Exception):
    pass


def run_once(prefix: list[str], argv: list[str], expect, timeout: float,
             env: dict | None = None) -> tuple[float, float | None]:
    """Run PREFIX+ARGV and check its output: (wall time, the program's own loop time or
    None), in seconds; Failure if it failed or printed the wrong result."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(prefix + argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=timeout,
                              env={**ENV, **(env or {})},
                              cwd="/tmp")
    except subprocess.TimeoutExpired:
        raise Failure(f"timed out after {timeout:g} s") from None
    except OSError as exc:
        raise Failure(f"cannot run: {exc}") from None
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
        raise Failure(f"exit status {proc.returncode}: {' | '.join(tail)[:400]}")
    lines = proc.stdout.splitlines(keepends=True)
    inner = [l for l in lines if l.startswith("ns=")]
    why = expect("".join(l for l in lines if not l.startswith("ns=")))
    if why:
        raise Failure(why)
    try:
        loop = int(inner[-1][3:]) / 1e9 if inner else None
    except ValueError:
        raise Failure(f"bad loop time {inner[-1]!r}") from None
    return elapsed, loop


def sample(workload: Workload, prep: Prepared, target: Target, timeout: float
           ) -> tuple[float, float | None]:
    """One sample in the workload's unit: (from wall times, from the program's own clock).

    Per-op: (wall(N) - wall(0)) / N, so sandbox start-up and teardown cancel out; the
    in-program figure is the loop's CLOCK_MONOTONIC time / N (less noisy, same meaning)."""
    if workload.kind == "per-op":
        base, _ = run_once(target.prefix, prep.base_argv, prep.base_expect, timeout, target.env)
        full, loop = run_once(target.prefix, prep.argv, prep.expect, timeout, target.env)
        inner = loop / prep.per * workload.scale if loop is not None else None
        return (full - base) / prep.per * workload.scale, inner
    wall, _ = run_once(target.prefix, prep.argv, prep.expect, timeout, target.env)
    return wall * workload.scale, None


@dataclass
class Cell:
    status: str = "ok"                        # ok | failed | skipped
    samples: list[float] = field(default_factory=list)       # wall-time based
    inner: list[float] = field(default_factory=list)         # the program's own clock
    error: str = ""

    def stats(self, timing: str) -> dict:
        primary, other = (self.samples, self.inner) if timing == "delta" else \
            (self.inner, self.samples)
        out: dict = {"status": self.status, "samples": [round(s, 4) for s in primary]}
        if self.status == "ok" and primary:
            out.update(median=statistics.median(primary), min=min(primary), max=max(primary))
        if self.status == "ok" and other:
            key = "inner" if timing == "delta" else "delta"
            out[f"{key}_samples"] = [round(s, 4) for s in other]
            out[f"{key}_median"] = statistics.median(other)
        if self.error:
            out["error"] = self.error
        return out


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_suite(workloads: list[Workload], targets: list[Target], runs: int, quick: bool,
              timeout: float, timing: str = "inner") -> dict:
    started = time.time()
    if HOST_TMP:
        os.makedirs(SHM_TMP, exist_ok=True)
    results: dict[str, dict[str, Cell]] = {}
    for w in workloads:
        cells = {t.name: Cell() for t in targets}
        results[w.name] = cells
        try:
            prep = w.prepare(quick)
        except Exception as exc:  # noqa: BLE001
            for cell in cells.values():
                cell.status, cell.error = "failed", f"cannot prepare: {exc}"
            log(f"{w.name}: cannot prepare: {exc}")
            continue
        for r in range(runs):
            for t in targets:
                cell = cells[t.name]
                if cell.status != "ok":
                    continue     # failed once: reported as failed, never timed
                try:
                    value, inner = sample(w, prep, t, timeout)
                except Failure as exc:
                    cell.status, cell.error = "failed", str(exc)
                    cell.samples.clear()
                    cell.inner.clear()
                    log(f"  {w.name} / {t.name}: FAILED: {exc}")
                else:
                    cell.samples.append(value)
                    if inner is not None:
                        cell.inner.append(inner)
            use_inner = timing == "inner" and w.kind == "per-op"
            done = "  ".join(
                f"{t}={_fmt((c.inner if use_inner and c.inner else c.samples)[-1])}"
                if c.status == "ok" else f"{t}=FAIL" for t, c in cells.items())
            log(f"{w.name} run {r + 1}/{runs} [{w.unit}]: {done}")
    return _report(workloads, targets, results, runs, quick, started, timing)


def _geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _report(workloads, targets, results, runs, quick, started, timing) -> dict:
    runsc = next((t.name for t in targets if t.name.startswith("runsc")), None)
    out_results: dict = {}
    ratios_native: dict[str, list[float]] = {t.name: [] for t in targets}
    for w in workloads:
        row = {}
        for t in targets:
            if timing == "inner" and w.kind == "per-op":
                st = results[w.name][t.name].stats("inner")
            else:
                st = results[w.name][t.name].stats("delta")
            row[t.name] = st
        native = row.get("native", {}).get("median")
        base_runsc = row.get(runsc, {}).get("median") if runsc else None
        for t in targets:
            st = row[t.name]
            med = st.get("median")
            if med is None:
                continue
            # per-op deltas of a fast native loop can come out <= 0 in noise: no ratio then
            if native and native > 0 and med > 0:
                st["ratio_native"] = med / native
                ratios_native[t.name].append(med / native)
            if base_runsc and base_runsc > 0 and med > 0:
                st["ratio_runsc"] = med / base_runsc
        out_results[w.name] = row
    geomean = {}
    for t in targets:
        # only over workloads every compared target completed, else a failure looks fast
        g = _geomean(ratios_native[t.name])
        complete = all(out_results[w.name][t.name]["status"] == "ok" for w in workloads)
        geomean[t.name] = {"ratio_native": g, "complete": complete,
                           "workloads": len(ratios_native[t.name])}
    return {
        "version": 1,
        "started": _dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "machine": machine(),
        "config": {"runs": runs, "quick": quick, "timing": timing},
        "targets": [{"name": t.name, "command": t.command(), "kind": t.kind,
                     "available": t.available, "reason": t.reason} for t in targets],
        "workloads": [{"name": w.name, "title": w.title, "unit": w.unit, "kind": w.kind,
                       "goal": w.goal, "notes": w.notes} for w in workloads],
        "results": out_results,
        "geomean": geomean,
    }


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
        mem_gib = round(mem / 1024 / 1024, 1)
    except (OSError, StopIteration):
        mem_gib = None
    distro = ""
    try:
        distro = next(l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                      if l.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    versions = {}
    for name, argv in (("runsc", ["runsc", "--version"]), ("proot", ["proot", "--version"]),
                       ("bwrap", ["bwrap", "--version"]), ("gcc", ["gcc", "-dumpfullversion"])):
        try:
            text = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
            if name == "proot":   # an ASCII-art banner ending with the version
                words = [w for l in text.splitlines() for w in l.split() if w[:1].isdigit()]
                versions[name] = words[0] if words else ""
            else:
                versions[name] = next((l.strip() for l in text.splitlines() if l.strip()), "")
        except (OSError, subprocess.SubprocessError):
            versions[name] = None
    return {"nproc": os.cpu_count(), "kernel": _platform.release(), "cpu": cpu,
            "mem_gib": mem_gib, "distro": distro,
            "python": _platform.python_version(), "sandbox_python":
            subprocess.run(["/usr/bin/python3", "-V"], capture_output=True, text=True).stdout.strip()
            if os.path.exists("/usr/bin/python3") else None,
            "peers": versions}


# -- output -----------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    a = abs(value)
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else (f"{value:.2f}x" if value < 10 else f"{value:.0f}x")


def markdown(report: dict) -> str:
    """The workload x target table (and goals, cross-check), then the load tables."""
    regular = [w for w in report["workloads"] if w["kind"] != "load"]
    lines = _grid_markdown({**report, "workloads": regular}) if regular else []
    if len(regular) < len(report["workloads"]):
        from bench import load
        lines += load.markdown(report)
    missing = [t for t in report["targets"] if not t["available"]]
    if missing:
        lines += ["", "Not run: " + "; ".join(f"{t['name']}: {t['reason']}" for t in missing)
                  + "."]
    return "\n".join(lines).lstrip("\n") + "\n"


def _grid_markdown(report: dict) -> list[str]:
    targets = [t for t in report["targets"] if t["available"]]
    names = [t["name"] for t in targets]
    runsc = next((n for n in names if n.startswith("runsc")), None)
    lines = [f"Median of {report['config']['runs']} runs (min–max); ratio to native / to "
             f"{runsc or 'runsc (not run)'}.", ""]
    lines.append("| workload | unit | " + " | ".join(names) + " |")
    lines.append("| --- | --- | " + " | ".join("---:" for _ in names) + " |")
    for w in report["workloads"]:
        row = report["results"][w["name"]]
        cells = []
        for n in names:
            st = row[n]
            if st["status"] != "ok":
                cells.append("**FAILED**")
                continue
            text = f"**{_fmt(st['median'])}** ({_fmt(st['min'])}–{_fmt(st['max'])})"
            rat = []
            if n != "native":
                rat.append(_ratio(st.get("ratio_native")))
                if runsc and n != runsc:
                    rat.append(_ratio(st.get("ratio_runsc")))
            if rat:
                text += "<br>" + " / ".join(rat)
            cells.append(text)
        lines.append(f"| {w['title']} | {w['unit']} | " + " | ".join(cells) + " |")
    geo = []
    for n in names:
        g = report["geomean"][n]
        text = _ratio(g["ratio_native"])
        if not g["complete"]:
            text += f" ({g['workloads']} ok)"
        geo.append(text)
    lines.append("| **geomean vs native** | | " + " | ".join(geo) + " |")
    failures = [(w["name"], n, report["results"][w["name"]][n].get("error", ""))
                for w in report["workloads"] for n in names
                if report["results"][w["name"]][n]["status"] == "failed"]
    if failures:
        lines += ["", "Failures (a workload that fails its own check is not timed):", ""]
        lines += [f"- `{w}` under `{n}`: {err}" for w, n, err in failures]
    sandvisor = [n for n in names if n.startswith("sandvisor")]
    goals = [w for w in report["workloads"] if w.get("goal")]
    if sandvisor and goals:
        lines += ["", "Targets from the issue, for " + ", ".join(sandvisor) + ":", "",
                  "| goal | " + " | ".join(sandvisor) + " |",
                  "| --- | " + " | ".join("---" for _ in sandvisor) + " |"]
        for w in goals:
            wl = BY_NAME.get(w["name"])
            cells = []
            for n in sandvisor:
                st = report["results"][w["name"]][n]
                if st["status"] != "ok":
                    cells.append("failed")
                    continue
                if wl and wl.goal_ratio is not None:
                    val, ok = st.get("ratio_native"), None
                    ok = val is not None and val <= wl.goal_ratio
                    cells.append(f"{_ratio(val)} {'met' if ok else 'not met'}")
                else:
                    val = st["median"]
                    ok = wl is not None and wl.goal_value is not None and val <= wl.goal_value
                    cells.append(f"{_fmt(val)} {w['unit']} {'met' if ok else 'not met'}")
            lines.append(f"| {w['title']} {w['goal']} | " + " | ".join(cells) + " |")
        geo_cells, runsc_cells = [], []
        for n in sandvisor:
            g = report["geomean"][n]["ratio_native"]
            geo_cells.append(f"{_ratio(g)} {'met' if g is not None and g <= 3 else 'not met'}")
            slower = [w["name"] for w in report["workloads"]
                      if (report["results"][w["name"]][n].get("ratio_runsc") or 0) > 1
                      or report["results"][w["name"]][n]["status"] != "ok"]
            runsc_cells.append("met" if not slower else "not met: " + ", ".join(slower))
        lines.append("| geomean <= 3x native | " + " | ".join(geo_cells) + " |")
        if runsc:
            lines.append("| faster than runsc on every workload | " + " | ".join(runsc_cells)
                         + " |")
    per_op = [w for w in report["workloads"] if w["kind"] == "per-op"]
    other = "inner" if report["config"].get("timing", "delta") == "delta" else "delta"
    if per_op:
        how = ("the programs' own clock (loop time / N)" if other == "inner"
               else "the wall-time difference (wall(N) - wall(0)) / N")
        lines += ["", f"Cross-check for the per-op rows: medians from {how}:",
                  "", "| workload | unit | " + " | ".join(names) + " |",
                  "| --- | --- | " + " | ".join("---:" for _ in names) + " |"]
        for w in per_op:
            cells = [_fmt(report["results"][w["name"]][n].get(f"{other}_median"))
                     for n in names]
            lines.append(f"| {w['title']} | {w['unit']} | " + " | ".join(cells) + " |")
    return lines


def machine_markdown(report: dict) -> str:
    m = report["machine"]
    peers = ", ".join(f"{k} {v}" for k, v in m["peers"].items() if v)
    if any(w["kind"] != "load" for w in report["workloads"]):
        runs = f"{report['config']['runs']} runs per cell"
    else:
        runs = f"{report['config']['load']['runs']} run(s) of each load workload"
    return (f"- {m['nproc']} CPUs: {m['cpu']}, {m['mem_gib']} GiB RAM\n"
            f"- kernel {m['kernel']}, {m['distro']}\n"
            f"- driver Python {m['python']} (the sentry runs on it); workloads' python: "
            f"{m['sandbox_python']}\n"
            f"- {peers}\n"
            f"- measured {report['started']}, {runs}, "
            f"{'--quick sizes' if report['config']['quick'] else 'full sizes'}, "
            f"{report['duration_s']:.0f} s in all\n")


def chart(report: dict, path: str) -> bool:
    """Draw the ratio-to-native bars; False when there is nothing to draw (load only)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [t["name"] for t in report["targets"] if t["available"] and t["name"] != "native"]
    workloads = [w for w in report["workloads"] if w["kind"] != "load"]
    if not workloads:
        return False
    fig, ax = plt.subplots(figsize=(max(8, 0.13 * len(workloads) * max(1, len(names)) + 2), 6))
    width = 0.8 / max(1, len(names))
    palette = plt.get_cmap("tab10")
    colors = {n: palette(i % 10) for i, n in enumerate(names)}
    for i, w in enumerate(workloads):
        for j, n in enumerate(names):
            st = report["results"][w["name"]][n]
            x = i + (j - (len(names) - 1) / 2) * width
            if st["status"] != "ok":
                ax.bar(x, 1, width=width, color="none", edgecolor=colors[n], hatch="xx")
                ax.text(x, 1.05, "failed", rotation=90, ha="center", va="bottom", fontsize=6,
                        color=colors[n])
                continue
            val = st.get("ratio_native")
            if val is not None:
                ax.bar(x, val, width=width, color=colors[n], label=n if i == 0 else None)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([w["title"] for w in workloads], fontsize=8, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_ylabel("time relative to native (log; lower is better)")
    m = report["machine"]
    ax.set_title(f"sandvisor benchmarks: median of {report['config']['runs']} runs, "
                 f"{m['nproc']} CPUs ({m['cpu']}), kernel {m['kernel']}", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -- profile ----------------------------------------------------------------------------

def profile(workload: Workload, quick: bool, out: str | None, top: int, timeout: float,
            platform: str | None = None) -> int:
    """Run WORKLOAD once under sandvisor with the sentry under cProfile; print the top."""
    import pstats
    import tempfile
    prep = workload.prepare(quick)
    out = out or os.path.join(tempfile.gettempdir(), f"sandvisor-bench-{workload.name}.prof")
    prefix = [sys.executable, "-m", "bench._profile_sentry", out, "do"]
    if platform:
        prefix += ["--platform", platform]
    prefix.append("--")
    try:
        elapsed, _ = run_once(prefix, prep.argv, prep.expect, timeout)
    except Failure as exc:
        log(f"{workload.name} failed under the profiled sentry: {exc}")
        return 1
    print(f"# {workload.title}: {shlex.join(prep.argv)}")
    print(f"# wall time under the profiler: {elapsed:.2f} s; profile written to {out}")
    if workload.kind == "per-op":
        print(f"# iterations: {prep.per:g}")
    for key, label in (("cumulative", "cumulative time"), ("tottime", "total (own) time")):
        print(f"\n## top {top} by {label}\n")
        stats = pstats.Stats(out, stream=sys.stdout)
        stats.strip_dirs().sort_stats(key).print_stats(top)
    return 0


# -- entry point ------------------------------------------------------------------------

def select(names: str | None, pool: dict, what: str) -> list:
    if not names:
        return list(pool.values())
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        matches = [v for k, v in pool.items() if k == name or k.startswith(name + "-")]
        if not matches:
            raise SystemExit(f"unknown {what} {name!r}; choose from {', '.join(pool)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def main_run(runs: int = 5, only: str | None = None, targets: str | None = None,
             target_cmds: tuple[str, ...] = (), json_path: str | None = None,
             markdown_path: str | None = None, chart_path: str | None = None,
             quick: bool = False, timeout: float = 600, timing: str = "inner",
             load_params: LoadParams | None = None) -> dict:
    from bench import load
    started = time.time()
    # the load workloads (bench/load.py) run only when named: `--only load` selects both
    pool = {w.name: w for w in WORKLOADS + load.LOAD_WORKLOADS}
    chosen_workloads = select(only, pool, "workload") if only else list(WORKLOADS)
    workloads = [w for w in chosen_workloads if isinstance(w, Workload)]
    loads = [w for w in chosen_workloads if isinstance(w, load.LoadWorkload)]
    params = load_params or load.LoadParams.defaults(quick)
    all_targets = {t.name: t for t in discover_targets()}
    for spec in target_cmds:
        name, sep, cmd = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"--target-cmd {spec!r}: use NAME=COMMAND PREFIX")
        all_targets[name] = Target(name, shlex.split(cmd), kind="custom")
    chosen = select(targets, all_targets, "target")
    skipped = [t for t in chosen if not t.available]
    for t in skipped:
        log(f"target {t.name}: not run ({t.reason})")
    runnable = [t for t in chosen if t.available]
    # unless targets were named, the load workloads run under fewer targets (load.py)
    load_targets = runnable if targets else load.default_targets(runnable)
    used = runnable if workloads else load_targets
    log("targets: " + ", ".join(f"{t.name} [{t.command()}]" for t in used))
    report = run_suite(workloads, runnable if workloads else [], runs, quick, timeout,
                       timing)
    report["config"]["load"] = asdict(params)
    if loads:
        known = {t["name"] for t in report["targets"]}
        report["targets"] += [{"name": t.name, "command": t.command(), "kind": t.kind,
                               "available": True, "reason": ""}
                              for t in load_targets if t.name not in known]
        report["workloads"] += load.describe(loads, params)
        report["results"].update(load.run_load(loads, load_targets, params, timeout))
        report["duration_s"] = round(time.time() - started, 1)
    # list the targets that were not run, so the table can say so
    report["targets"] += [{"name": t.name, "command": t.command(), "kind": t.kind,
                           "available": False, "reason": t.reason} for t in skipped]
    md = markdown(report)
    print(md)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        log(f"wrote {json_path}")
    if markdown_path:
        Path(markdown_path).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_path).write_text(md + "\nMachine:\n\n" + machine_markdown(report))
        log(f"wrote {markdown_path}")
    if chart_path:
        try:
            log(f"wrote {chart_path}" if chart(report, chart_path)
                else "no chart: the load workloads have no bars to draw")
        except ImportError:
            log("no chart: matplotlib is not installed (pip install -e '.[bench]')")
    return report
