"""Differential filesystem fuzzing: random operation sequences, native vs sandboxed.

A script of operations (see conformance/fuzz/fsops.c) runs natively in a fresh temp
dir and inside the sandbox on a volume; the transcript (every result with its errno)
and the final tree (types, modes, sizes, link counts, contents, link targets) must match.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from conformance.harness import CACHE_DIR, CASE_ENV, _compile
from conformance.known import FUZZ_KNOWN

FSOPS_SOURCE = Path(__file__).resolve().parent / "fuzz" / "fsops.c"
# A small name space so operations collide: that is where the semantics are subtle.
NAMES = ["a", "b", "d", "d/a", "d/b", "d/e", "d/e/f", "a/x", "l", "d/l", "..", "d/.."]
FLAG_CHOICES = [0x0, 0x1, 0x2, 0x41, 0x42, 0x241, 0xC1, 0x441, 0x10000, 0x20042, 0x80000]
MODES = ["644", "600", "755", "000", "4755", "777"]


def fsops_binary() -> Path:
    return _compile(FSOPS_SOURCE, CACHE_DIR)


def _op() -> st.SearchStrategy[str]:
    name = st.sampled_from(NAMES)
    slot = st.integers(0, 2).map(str)
    data = st.text(alphabet="abcxyz", min_size=1, max_size=12)
    return st.one_of(
        st.builds(lambda s, p, f, m: f"open {s} {p} {f:#x} {m}", slot, name,
                  st.sampled_from(FLAG_CHOICES), st.sampled_from(MODES)),
        st.builds(lambda s, p, m: f"creat {s} {p} {m}", slot, name, st.sampled_from(MODES)),
        st.builds(lambda s: f"close {s}", slot),
        st.builds(lambda s, d: f"write {s} {d}", slot, data),
        st.builds(lambda s, n: f"read {s} {n}", slot, st.integers(0, 64)),
        st.builds(lambda s, o, w: f"lseek {s} {o} {w}", slot, st.integers(-4, 40),
                  st.integers(0, 2)),
        st.builds(lambda a, b: f"rename {a} {b}", name, name),
        st.builds(lambda a, b: f"link {a} {b}", name, name),
        st.builds(lambda a, b: f"symlink {a} {b}", name, name),
        st.builds(lambda p: f"unlink {p}", name),
        st.builds(lambda p, m: f"mkdir {p} {m}", name, st.sampled_from(["755", "700", "1777"])),
        st.builds(lambda p: f"rmdir {p}", name),
        st.builds(lambda p, m: f"chmod {p} {m}", name, st.sampled_from(MODES)),
        st.builds(lambda p, n: f"truncate {p} {n}", name, st.integers(-1, 30)),
        st.builds(lambda p: f"getdents {p}", st.sampled_from(NAMES + ["."])),
        st.builds(lambda p, nf: f"statx {p} {nf}", name, st.integers(0, 1)),
    )


def scripts(max_ops: int = 25) -> st.SearchStrategy[list[str]]:
    return st.lists(_op(), min_size=1, max_size=max_ops)


def run_script(ops: list[str], sandboxed: bool, timeout: float = 60) -> tuple[int, str]:
    """Run ops in a fresh directory; (exit status, transcript + tree)."""
    binary = fsops_binary()
    base = Path(tempfile.mkdtemp(prefix="sandvisor-fsfuzz-"))
    try:
        os.chmod(base, 0o755)
        work = base / "work"
        work.mkdir()
        script = base / "ops.txt"
        script.write_text("\n".join(ops) + "\n")
        argv = [str(binary), str(script), str(work)]
        if sandboxed:
            argv = [sys.executable, "-m", "sentry", "do", "--cwd", str(base),
                    "-v", f"{base}:{base}", "--timeout", str(timeout), "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10,
                              env=CASE_ENV, stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout + (proc.stderr if proc.returncode else "")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def mask_known(transcript: str) -> str:
    """Mask the errno of lines that hit a documented known difference (FUZZ_KNOWN)."""
    lines = []
    for line in transcript.splitlines():
        for pattern, _reason in FUZZ_KNOWN:
            if re.match(pattern, line):
                line = re.sub(r"= -1 E[A-Z]+$", "= -1 E<known difference>", line)
        lines.append(line)
    return "\n".join(lines)
