"""The benchmark workloads: what each one runs, how its result is checked, its unit.

A workload is run as `PREFIX + argv`, where PREFIX is the target (nothing for native,
`sandvisor do --` for sandvisor, `runsc ... do --` for runsc, ...). Every workload
checks its own output, so a sandbox that fails (or a wrapper that runs nothing) is
reported as failed, never as fast.

Loop workloads ("per-op") run twice per sample, with the iteration count N and with 0;
the sample is (t(N) - t(0)) / N, so start-up cost is excluded. The others ("whole") time
the whole command, sandbox start-up included: that is what a user waits for.

Helper programs are tiny C files in bench/workloads/, compiled once with gcc and cached
by source hash in ~/.cache/sandvisor-bench (or $SANDVISOR_BENCH_CACHE). The cache must
be visible inside every sandbox, so it is not under /tmp (bwrap gets a fresh /tmp).
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SRC_DIR = Path(__file__).resolve().parent / "workloads"
PYTHON = "/usr/bin/python3"     # the system's python (a pyenv shim would time bash)
STAT_PATH = "/usr/share/common-licenses/GPL-3"   # 4 components, in Debian's base-files
OPEN_PATH = "/etc/passwd"
MIB = 1 << 20


def cache_dir() -> Path:
    root = os.environ.get("SANDVISOR_BENCH_CACHE") or os.path.expanduser("~/.cache/sandvisor-bench")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- building what the workloads need ---------------------------------------------------

def _gcc_version() -> str:
    try:
        return subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"gcc is needed to build the benchmark programs: {exc}") from exc


def build(name: str, static: bool = False) -> str:
    """Compile bench/workloads/NAME.c (cached by source hash); return the binary's path."""
    src = SRC_DIR / f"{name}.c"
    flags = ["-O2", "-Wall"] + (["-static"] if static else [])
    key = hashlib.sha256(src.read_bytes() + repr(flags).encode() + _gcc_version().encode())
    out = cache_dir() / "bin" / f"{name}-{key.hexdigest()[:16]}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        proc = subprocess.run(["gcc", *flags, "-o", str(tmp), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"gcc {src.name} failed:\n{proc.stderr}")
        os.replace(tmp, out)
    return str(out)


def read_file(size: int) -> str:
    """A SIZE-byte file whose every 4 KiB block starts with its index (checked by readfile.c)."""
    path = cache_dir() / "data" / f"read-{size // MIB}M.bin"
    if path.exists() and path.stat().st_size == size:
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    chunk = 4 * MIB
    with open(tmp, "wb") as fh:
        for start in range(0, size, chunk):
            buf = bytearray(min(chunk, size - start))
            for off in range(0, len(buf), 4096):
                buf[off:off + 8] = ((start + off) // 4096).to_bytes(8, "little")
            fh.write(buf)
    os.replace(tmp, path)
    return str(path)


def tarball(nfiles: int) -> str:
    """A tar of NFILES small files (100-1100 bytes) in 20 directories; deterministic."""
    path = cache_dir() / "data" / f"files-{nfiles}.tar"
    if path.exists():
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        ndirs = 20
        for d in range(ndirs):
            info = tarfile.TarInfo(f"tree/d{d:02d}")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            tar.addfile(info)
        for i in range(nfiles):
            data = (f"file {i}\n" * (1 + (i * 37) % 120)).encode()[:100 + (i * 97) % 1000]
            info = tarfile.TarInfo(f"tree/d{i % ndirs:02d}/f{i:05d}.txt")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, path)
    return str(path)


def c_source(lines: int) -> tuple[str, str]:
    """A C file of about LINES lines (functions of 10 lines); returns (path, expected output)."""
    nfuncs = max(1, (lines - 10) // 10)
    path = cache_dir() / "data" / f"gcc-{lines}.c"
    out, total = [], 0
    out.append("#include <stdio.h>\n")
    for i in range(nfuncs):
        out.append(f"static long f{i}(long x) {{\n"
                   f"    long acc = x * {i % 7 + 1};\n"
                   f"    for (int k = 0; k < {i % 5 + 1}; k++) {{\n"
                   f"        acc += k ^ {i};\n"
                   f"        if (acc > 100000) acc -= 99991;\n"
                   f"    }}\n"
                   f"    acc = acc % 1000 + {i};\n"
                   f"    return acc;\n"
                   f"}}\n\n")
        acc = 1 * (i % 7 + 1)
        for k in range(i % 5 + 1):
            acc += k ^ i
            if acc > 100000:
                acc -= 99991
        total += acc % 1000 + i
    out.append("int main(void) {\n    long sum = 0;\n")
    out.extend(f"    sum += f{i}(1);\n" for i in range(nfuncs))
    out.append('    printf("%ld\\n", sum);\n    return 0;\n}\n')
    text = "".join(out)
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(path), str(total)


# -- the workloads ----------------------------------------------------------------------

@dataclass
class Prepared:
    """A workload made concrete: argv for N iterations (and for 0 when per-op)."""
    argv: list[str]
    expect: Callable[[str], str | None]          # stdout -> None if right, else why not
    base_argv: list[str] | None = None
    base_expect: Callable[[str], str | None] | None = None
    per: float = 1.0                             # what the delta is divided by


@dataclass
class Workload:
    name: str
    title: str
    unit: str            # "ns", "µs", "ms"
    kind: str            # "per-op" (delta of N and 0, divided by N) or "whole"
    prepare: Callable[[bool], Prepared]          # quick -> Prepared
    goal: str = ""       # the issue's target for sandvisor, as text
    goal_value: float | None = None              # absolute goal in `unit`
    goal_ratio: float | None = None              # goal as a ratio to native
    notes: str = ""
    cheap: bool = False  # cheap enough for the smoke test
    scale: float = field(init=False, default=1.0)

    def __post_init__(self):
        self.scale = {"ns": 1e9, "µs": 1e6, "ms": 1e3, "s": 1.0}[self.unit]


def _equals(want: str) -> Callable[[str], str | None]:
    def check(out: str) -> str | None:
        got = out.strip()
        return None if got == want else f"expected output {want!r}, got {got[:200]!r}"
    return check


def _loop(program: str, n_full: int, n_quick: int, *extra: str,
          expect_fmt: str = "{n}") -> Callable[[bool], Prepared]:
    def prepare(quick: bool) -> Prepared:
        binary = build(program)
        n = n_quick if quick else n_full
        return Prepared(argv=[binary, str(n), *extra],
                        expect=_equals(expect_fmt.format(n=n)),
                        base_argv=[binary, "0", *extra],
                        base_expect=_equals(expect_fmt.format(n=0)),
                        per=n)
    return prepare


def _prepare_start(quick: bool) -> Prepared:
    return Prepared(argv=[build("true", static=True)], expect=_equals("ok"))


def _prepare_stat(quick: bool) -> Prepared:
    size = str(os.stat(STAT_PATH).st_size)
    return _loop("stat", 5000, 500, STAT_PATH, expect_fmt="{n} " + size)(quick)


def _prepare_read(block: int) -> Callable[[bool], Prepared]:
    def prepare(quick: bool) -> Prepared:
        size = (16 if quick else 256) * MIB
        path, binary = read_file(size), build("readfile")
        return Prepared(argv=[binary, path, str(block), str(size)],
                        expect=_equals(f"{size} {size // 4096}"),
                        base_argv=[binary, path, str(block), "0"],
                        base_expect=_equals("0 0"), per=1)
    return prepare


def _prepare_forkexec(quick: bool) -> Prepared:
    # /bin/true as the issue says (dynamically linked on Debian: ld.so and libc are opened)
    return _loop("forkexec", 200, 20, "/bin/true")(quick)


def _prepare_python_pass(quick: bool) -> Prepared:
    return Prepared(argv=[PYTHON, "-S", "-c", "print('ok')"], expect=_equals("ok"))


def _prepare_python_import(quick: bool) -> Prepared:
    code = "import json, decimal, asyncio; print(decimal.Decimal(1) / 8)"
    return Prepared(argv=[PYTHON, "-c", code], expect=_equals("0.125"))


def _prepare_untar(quick: bool) -> Prepared:
    n = 200 if quick else 2000
    tar = tarball(n)
    script = (f'd=$(mktemp -d) && tar -xf {shlex.quote(tar)} -C "$d" && '
              f'n=$(find "$d" -type f | wc -l) && rm -rf "$d" && ! test -e "$d" && echo "$n"')
    return Prepared(argv=["/bin/sh", "-c", script], expect=_equals(str(n)))


def _prepare_gcc(quick: bool) -> Prepared:
    src, want = c_source(200 if quick else 2000)
    script = (f'd=$(mktemp -d) && gcc -O0 -o "$d/a.out" {shlex.quote(src)} && "$d/a.out"; '
              f'rc=$?; rm -rf "$d"; exit $rc')
    return Prepared(argv=["/bin/sh", "-c", script], expect=_equals(want))


WORKLOADS: list[Workload] = [
    Workload("start", "start: static /bin/true", "ms", "whole", _prepare_start,
             goal="<= 60 ms", goal_value=60, cheap=True,
             notes="a statically linked program that writes 'ok'; sandbox start-up included"),
    Workload("getppid", "getppid loop (host syscall)", "ns", "per-op",
             _loop("getppid", 100_000, 20_000), cheap=True,
             notes="a syscall the sandbox lets run on the host: the filter's cost"),
    Workload("noop", "trapped no-op loop: umask(022)", "µs", "per-op",
             _loop("noop", 20_000, 2_000), goal="<= 10 µs", goal_value=10, cheap=True,
             notes="umask is emulated by sandvisor (notify, then continue): one round trip"),
    Workload("open", "open+fstat+close loop", "µs", "per-op",
             _loop("openclose", 5_000, 500, OPEN_PATH), goal="<= 40 µs", goal_value=40,
             notes=f"on {OPEN_PATH}"),
    Workload("stat", "stat loop, 4-component path", "µs", "per-op", _prepare_stat,
             goal="<= 20 µs", goal_value=20, notes=f"stat({STAT_PATH})"),
    Workload("read64k", "read 256 MiB in 64 KiB reads", "ms", "per-op", _prepare_read(65536),
             goal="<= 1.2x native", goal_ratio=1.2,
             notes="from the page cache; data checked block by block (16 MiB with --quick)"),
    Workload("read4k", "read 256 MiB in 4 KiB reads", "ms", "per-op", _prepare_read(4096),
             goal="<= 1.2x native", goal_ratio=1.2,
             notes="from the page cache; data checked block by block (16 MiB with --quick)"),
    Workload("forkexec", "fork+exec of /bin/true (per child)", "ms", "per-op",
             _prepare_forkexec, notes="200 children one after the other (20 with --quick)"),
    Workload("python-S", "python3 -S -c pass", "ms", "whole", _prepare_python_pass,
             notes=f"{PYTHON} -S -c \"print('ok')\"; sandbox start-up included"),
    Workload("python-import", "python3 -c 'import json, decimal, asyncio'", "ms", "whole",
             _prepare_python_import, notes="sandbox start-up included"),
    Workload("untar", "untar + delete 2000 small files", "ms", "whole", _prepare_untar,
             notes="tar -xf into mktemp -d under /tmp, count, rm -rf (200 files with --quick)"),
    Workload("gcc", "gcc -O0 of a 2000-line file", "ms", "whole", _prepare_gcc,
             notes="compile, link and run it (200 lines with --quick)"),
    Workload("pingpong", "pipe ping-pong, 2 processes", "µs", "per-op",
             _loop("pingpong", 20_000, 2_000),
             notes="one round trip: a byte each way through two pipes"),
]

BY_NAME = {w.name: w for w in WORKLOADS}
