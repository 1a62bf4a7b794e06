"""Discover, build and run conformance cases; compare native and target transcripts.

A *family* is one source file in `conformance/cases/`: a C file compiled once with gcc
(cached by source hash) or a Python script.  Both speak the same protocol:
`PROGRAM --list` prints `test_NAME<TAB>syscall syscall...` per case, and
`PROGRAM test_NAME DIR` runs one case in the scratch directory DIR and prints its
transcript.  A case passes under a target when its normalised transcript and exit
status equal the native run's.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

CASES_DIR = Path(__file__).resolve().parent / "cases"
REPO = CASES_DIR.parent.parent
CACHE_DIR = Path(os.environ.get("SANDVISOR_CONFORMANCE_CACHE",
                                Path.home() / ".cache" / "sandvisor-conformance"))
# Cases pass bad arguments on purpose: silence the warnings about exactly that.
CFLAGS = ["-O1", "-Wall", "-Wno-unused-function", "-Wno-nonnull", "-Wno-stringop-overflow",
          "-std=gnu11"]
LDLIBS = ["-lpthread", "-lrt"]
EXIT_SKIP = 77
DEFAULT_TIMEOUT = 30.0
# Cases run with a fixed environment so locale or user settings cannot leak into output.
CASE_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root"}
_NORM_RE = re.compile(r"^\s*(?://|#)\s*normalise(?:\[(?P<case>\w+)\])?:\s*(?P<pat>.*?)\s+=>\s?"
                      r"(?P<repl>.*)$")

PASS, FAIL, SKIP = "pass", "fail", "skip"


class HarnessError(Exception):
    """The harness itself cannot go on (a family does not compile, bad target...)."""


@dataclass(frozen=True)
class Normalisation:
    pattern: str
    replacement: str
    case: str | None = None       # None: applies to every case of the family

    def apply(self, text: str) -> str:
        return re.sub(self.pattern, self.replacement, text, flags=re.M)


@dataclass(frozen=True)
class Family:
    name: str
    source: Path
    program: tuple[str, ...]      # argv prefix that runs the family's program
    normalisations: tuple[Normalisation, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    family: Family
    syscalls: tuple[str, ...]

    def argv(self, scratch: str) -> list[str]:
        return [*self.family.program, self.name, scratch]

    def normalise(self, text: str, scratch: str) -> str:
        # The scratch directory's path differs per run; it is the only global rule.
        text = text.replace(scratch, "$TMP")
        for norm in self.family.normalisations:
            if norm.case in (None, self.name):
                text = norm.apply(text)
        return text


@dataclass
class Run:
    """One execution of one case."""
    exit_code: int | None
    transcript: str
    stderr: str = ""
    timed_out: bool = False
    seconds: float = 0.0

    def status_line(self) -> str:
        if self.timed_out:
            return "[timed out]"
        return f"[exit {self.exit_code}]"


@dataclass
class Result:
    case: Case
    target: str
    status: str                   # pass | fail | skip
    reason: str = ""
    diff: str = ""
    seconds: float = 0.0


@dataclass
class Target:
    """Where cases run: natively, under sandvisor, or behind any command prefix."""
    label: str
    build: Callable[[Case, str, float], list[str]]
    unavailable: str = ""         # non-empty: every case is skipped with this reason


# -- targets -----------------------------------------------------------------------------

def _sandvisor_argv(platform: str | None) -> Callable[[Case, str, float], list[str]]:
    def build(case: Case, scratch: str, timeout: float) -> list[str]:
        argv = [sys.executable, "-m", "sentry", "do", "--cwd", scratch,
                "-v", f"{scratch}:{scratch}", "--timeout", str(timeout)]
        if platform:
            argv += ["--platform", platform]
        return [*argv, "--", *case.argv(scratch)]
    return build


def _platform_unavailable(platform: str) -> str:
    try:
        from sentry.platform import probe_all
        probes = {p.name: p for p in probe_all()}
    except Exception as exc:  # the probe itself failing is a reason to skip, not crash
        return f"cannot probe sandvisor platforms: {exc}"
    probe = probes.get(platform)
    if probe is None:
        return f"sandvisor has no platform {platform!r} (has: {', '.join(probes)})"
    return "" if probe.usable else f"platform {platform} unusable here: {probe.reason}"


def make_target(spec: str) -> Target:
    """native | sandvisor | sandvisor:PLATFORM | any command prefix."""
    if spec == "native":
        return Target("native", lambda case, scratch, _t: case.argv(scratch))
    if spec == "sandvisor":
        return Target("sandvisor", _sandvisor_argv(None))
    if spec.startswith("sandvisor:"):
        platform = spec.split(":", 1)[1]
        return Target(spec, _sandvisor_argv(platform), _platform_unavailable(platform))
    prefix = shlex.split(spec)
    if not prefix:
        raise HarnessError("empty --target")
    missing = "" if shutil.which(prefix[0]) else f"{prefix[0]} is not installed"
    return Target(spec, lambda case, scratch, _t: [*prefix, *case.argv(scratch)], missing)


# -- discovery and build -----------------------------------------------------------------

def _normalisations(source: Path) -> tuple[Normalisation, ...]:
    found = []
    for line in source.read_text().splitlines():
        m = _NORM_RE.match(line)
        if m:
            found.append(Normalisation(m["pat"], m["repl"], m["case"]))
    return tuple(found)


def _compile(source: Path, cache: Path) -> Path:
    """gcc once per source+header+flags content; concurrent builders race harmlessly."""
    digest = hashlib.sha256()
    for part in (source.read_bytes(), (CASES_DIR / "common.h").read_bytes(),
                 " ".join(CFLAGS + LDLIBS).encode()):
        digest.update(part)
    binary = cache / f"{source.stem}-{digest.hexdigest()[:16]}"
    if binary.exists():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    tmp = binary.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
    proc = subprocess.run(["gcc", *CFLAGS, "-I", str(CASES_DIR), "-o", str(tmp), str(source),
                           *LDLIBS], capture_output=True, text=True)
    if proc.returncode != 0:
        raise HarnessError(f"{source.name} does not compile:\n{proc.stderr}")
    os.replace(tmp, binary)
    return binary


def load_family(source: Path, cache: Path = CACHE_DIR) -> Family:
    if source.suffix == ".c":
        program: tuple[str, ...] = (str(_compile(source, cache)),)
    else:
        program = ("/usr/bin/python3", str(source))
    return Family(source.stem, source, program, _normalisations(source))


def list_cases(family: Family) -> list[Case]:
    proc = subprocess.run([*family.program, "--list"], capture_output=True, text=True,
                          env=CASE_ENV, timeout=60)
    if proc.returncode != 0:
        raise HarnessError(f"{family.name} --list failed: {proc.stderr.strip()}")
    cases = []
    for line in proc.stdout.splitlines():
        name, _, syscalls = line.partition("\t")
        cases.append(Case(name, family, tuple(syscalls.split())))
    return sorted(cases, key=lambda c: c.name)


def discover(pattern: str | None = None, families: Iterable[str] | None = None,
             cache: Path = CACHE_DIR, jobs: int = 2) -> list[Case]:
    """Every case, optionally filtered by -k PATTERN (substring or glob on name/family)."""
    sources = sorted(p for p in CASES_DIR.iterdir() if p.suffix in (".c", ".py")
                     and not p.name.startswith("_"))
    if families is not None:
        wanted = set(families)
        sources = [p for p in sources if p.stem in wanted]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        loaded = list(pool.map(lambda p: load_family(p, cache), sources))
    cases = [case for fam in loaded for case in list_cases(fam)]
    return [c for c in cases if matches(c, pattern)]


def matches(case: Case, pattern: str | None) -> bool:
    if not pattern:
        return True
    for alt in pattern.split(","):
        alt = alt.strip()
        if any(ch in alt for ch in "*?["):
            # A glob may leave out the test_ prefix every case name has.
            if (fnmatch.fnmatch(case.name, alt) or fnmatch.fnmatch(case.name, "test_" + alt)
                    or fnmatch.fnmatch(case.family.name, alt)):
                return True
        elif alt in case.name or alt == case.family.name:
            return True
    return False


# -- running -----------------------------------------------------------------------------

def execute(argv: list[str], case: Case, scratch: str, timeout: float) -> Run:
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=scratch, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CASE_ENV,
                                start_new_session=True)
    except OSError as exc:
        return Run(None, "", f"cannot execute {argv[0]}: {exc}", False, 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        # A hung case may have forked: kill its whole session, not just the leader.
        _kill_group(proc.pid)
        out, err = proc.communicate()
        timed_out = True
    return Run(None if timed_out else proc.returncode,
               case.normalise(out.decode(errors="replace"), scratch),
               err.decode(errors="replace"), timed_out, time.monotonic() - start)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, 9)
    except ProcessLookupError:
        pass


def _fresh_dir(base: Path, label: str, case: Case) -> str:
    path = base / re.sub(r"[^\w.-]", "_", label) / case.name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.chmod(path, 0o777)
    return str(path)


def _diff(expected: Run, got: Run, label: str) -> str:
    want = (expected.transcript + expected.status_line() + "\n").splitlines(keepends=True)
    have = (got.transcript + got.status_line() + "\n").splitlines(keepends=True)
    return "".join(difflib.unified_diff(want, have, "native", label, n=2))


def judge(case: Case, label: str, native: Run, got: Run) -> Result:
    """Compare one target run with the native run."""
    if native.exit_code == EXIT_SKIP:
        reason = native.transcript.strip().splitlines()[-1] if native.transcript.strip() else ""
        return Result(case, label, SKIP, reason.removeprefix("SKIP: ") or "skipped natively")
    if native.exit_code != 0 or native.timed_out:
        return Result(case, label, FAIL, f"case is broken natively {native.status_line()}: "
                      f"{native.stderr.strip()[-200:]}", native.transcript)
    if got.timed_out:
        return Result(case, label, FAIL, "timed out (hang)", _diff(native, got, label),
                      got.seconds)
    if (got.transcript, got.exit_code) == (native.transcript, native.exit_code):
        return Result(case, label, PASS, seconds=got.seconds)
    return Result(case, label, FAIL, _fail_reason(native, got), _diff(native, got, label),
                  got.seconds)


def _fail_reason(native: Run, got: Run) -> str:
    if got.exit_code is None:
        return got.stderr.strip() or "did not run"
    if got.exit_code < 0:
        return f"crashed: killed by signal {-got.exit_code}"
    if got.exit_code != native.exit_code:
        tail = got.stderr.strip().splitlines()[-1:] if got.stderr.strip() else []
        return (f"exit status {got.exit_code}, native {native.exit_code}"
                + (f": {tail[0][:200]}" if tail else ""))
    return "transcript differs"


@dataclass
class Session:
    """The results of one `conformance run`: every case under every target."""
    cases: list[Case]
    targets: list[str]
    results: dict[str, list[Result]] = field(default_factory=dict)
    seconds: float = 0.0

    def of(self, target: str) -> list[Result]:
        return self.results.get(target, [])


def run_cases(cases: list[Case], targets: list[Target], *, jobs: int = 2,
              timeout: float = DEFAULT_TIMEOUT,
              progress: Callable[[int, int, Case, list[Result]], None] | None = None,
              workdir: Path | None = None) -> Session:
    """Run every case natively once, then under each target, in parallel by case."""
    start = time.monotonic()
    session = Session(cases, [t.label for t in targets], {t.label: [] for t in targets})
    base = Path(workdir or tempfile.mkdtemp(prefix="sandvisor-conformance-"))
    lock = threading.Lock()
    done = 0

    def one(case: Case) -> list[Result]:
        scratch = _fresh_dir(base, "native-ref", case)
        native = execute(case.argv(scratch), case, scratch, timeout)
        results = []
        for target in targets:
            if target.unavailable:
                results.append(Result(case, target.label, SKIP, target.unavailable))
                continue
            scratch = _fresh_dir(base, target.label, case)
            # Grace so a target's own timeout (sandvisor --timeout) reports first.
            got = execute(target.build(case, scratch, timeout), case, scratch,
                          timeout + min(10.0, timeout))
            results.append(judge(case, target.label, native, got))
        return results

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(one, case): case for case in cases}
            for fut in as_completed(futures):
                results = fut.result()
                with lock:
                    done += 1
                    for res in results:
                        session.results[res.target].append(res)
                    if progress:
                        progress(done, len(cases), futures[fut], results)
    finally:
        if workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    for label in session.results:
        session.results[label].sort(key=lambda r: (r.case.family.name, r.case.name))
    session.seconds = time.monotonic() - start
    return session
