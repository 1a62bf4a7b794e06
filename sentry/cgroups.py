"""Resource limits through cgroups (v1 controllers where mounted, else the v2 tree).

One Cgroup per sandbox: created before the sandbox starts, every sandboxed process
moved in, removed at the end. Limits are written by the sentry, from outside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

CGROUP_ROOT = "/sys/fs/cgroup"
V1_CONTROLLERS = ("memory", "pids", "cpu")


class CgroupError(Exception):
    pass


@dataclass
class Limits:
    """A sandbox's resource limits; None is no limit."""
    memory: int | None = None         # bytes
    memory_swap: int | None = None    # memory + swap, bytes (OCI's memory.swap)
    pids: int | None = None
    cpu_quota: int | None = None      # microseconds per period
    cpu_period: int | None = None
    cpu_shares: int | None = None
    cpus: frozenset[int] | None = None   # the cpuset: the only CPUs the sandbox runs on

    @classmethod
    def from_oci(cls, resources: dict) -> "Limits":
        """config.json's linux.resources; a malformed cpu.cpus raises ValueError."""
        mem = resources.get("memory") or {}
        cpu = resources.get("cpu") or {}
        pids = resources.get("pids") or {}
        try:
            cpus = parse_cpu_list(cpu["cpus"]) if cpu.get("cpus") else None
        except ValueError as exc:
            raise ValueError(f"linux.resources.cpu.cpus {exc}") from None
        return cls(memory=_positive(mem.get("limit")), memory_swap=_positive(mem.get("swap")),
                   pids=_positive(pids.get("limit")), cpu_quota=_positive(cpu.get("quota")),
                   cpu_period=_positive(cpu.get("period")), cpu_shares=_positive(cpu.get("shares")),
                   cpus=cpus)

    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


def parse_cpu_list(text: str) -> frozenset[int]:
    """The kernel's list format ("0-2,5"), as cpuset.cpus and taskset -c take it."""
    cpus: set[int] = set()
    for part in str(text).split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"{text!r}: use CPU numbers and ranges, e.g. 0-2,5")
        lo, hi = int(first), int(last) if dash else int(first)
        if hi < lo:
            raise ValueError(f"{text!r}: the range {part.strip()} runs backwards")
        cpus.update(range(lo, hi + 1))
    return frozenset(cpus)


def format_cpu_list(cpus) -> str:
    """The kernel's list format, ranges folded: {0, 1, 2, 5} -> "0-2,5"."""
    parts, run = [], []
    for cpu in sorted(cpus):
        if run and cpu != run[-1] + 1:
            parts.append(_span(run))
            run = []
        run.append(cpu)
    if run:
        parts.append(_span(run))
    return ",".join(parts)


def _span(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def _positive(value) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


def version() -> int:
    return 1 if os.path.isdir(os.path.join(CGROUP_ROOT, "memory")) else 2


@dataclass
class Cgroup:
    """One sandbox's cgroup, in every hierarchy its limits need."""
    path: str                               # e.g. /sandvisor/ID (relative to each hierarchy)
    dirs: dict[str, str] = field(default_factory=dict)   # controller (or "unified") -> dir

    def create(self, limits: Limits) -> None:
        rel = self.path.strip("/")
        if not rel or ".." in rel.split("/"):
            raise CgroupError(f"bad cgroup path {self.path!r}")
        try:
            if version() == 1:
                for ctrl in V1_CONTROLLERS + (("cpuset",) if limits.cpus else ()):
                    base = os.path.join(CGROUP_ROOT, ctrl)
                    if os.path.isdir(base):
                        self.dirs[ctrl] = os.path.join(base, rel)
                        if ctrl == "cpuset":
                            _make_cpuset_dirs(base, rel)
                        else:
                            os.makedirs(self.dirs[ctrl], exist_ok=True)
                if limits.cpus and "cpuset" not in self.dirs:
                    raise CgroupError("this host has no cpuset controller mounted "
                                      f"(no {CGROUP_ROOT}/cpuset)")
                self._write_v1(limits)
            else:
                self.dirs["unified"] = os.path.join(CGROUP_ROOT, rel)
                if limits.cpus:
                    _enable_v2_controller("cpuset", rel)
                os.makedirs(self.dirs["unified"], exist_ok=True)
                self._write_v2(limits)
        except OSError as exc:
            self.remove()
            raise CgroupError(f"cannot set up cgroup {self.path}: {exc}") from None

    def _write(self, ctrl: str, name: str, value) -> None:
        if value is None or ctrl not in self.dirs:
            return
        with open(os.path.join(self.dirs[ctrl], name), "w") as f:
            f.write(str(value))

    def _write_v1(self, lim: Limits) -> None:
        self._write("memory", "memory.limit_in_bytes", lim.memory)
        if lim.memory_swap is not None and os.path.exists(
                os.path.join(self.dirs.get("memory", "/nonexistent"), "memory.memsw.limit_in_bytes")):
            self._write("memory", "memory.memsw.limit_in_bytes", lim.memory_swap)
        self._write("pids", "pids.max", lim.pids)
        self._write("cpu", "cpu.cfs_period_us", lim.cpu_period)
        self._write("cpu", "cpu.cfs_quota_us", lim.cpu_quota)
        self._write("cpu", "cpu.shares", lim.cpu_shares)
        if lim.cpus:
            self._write("cpuset", "cpuset.cpus", format_cpu_list(lim.cpus))

    def _write_v2(self, lim: Limits) -> None:
        self._write("unified", "memory.max", lim.memory)
        if lim.memory_swap is not None and lim.memory is not None:
            self._write("unified", "memory.swap.max", max(lim.memory_swap - lim.memory, 0))
        self._write("unified", "pids.max", lim.pids)
        if lim.cpu_quota is not None:
            self._write("unified", "cpu.max", f"{lim.cpu_quota} {lim.cpu_period or 100000}")
        if lim.cpus:
            self._write("unified", "cpuset.cpus", format_cpu_list(lim.cpus))

    def add(self, pid: int) -> None:
        for d in self.dirs.values():
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(pid))

    def _counter(self, ctrl: str, name: str, key: str) -> int:
        try:
            for line in self.read(ctrl, name).splitlines():
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v)
        except (OSError, KeyError, ValueError):
            pass
        return 0

    def oom_kills(self) -> int:
        if "unified" in self.dirs:
            return self._counter("unified", "memory.events", "oom_kill")
        return self._counter("memory", "memory.oom_control", "oom_kill")

    def pids_refused(self) -> int:
        return self._counter("unified" if "unified" in self.dirs else "pids", "pids.events", "max")

    def read(self, ctrl: str, name: str) -> str:
        with open(os.path.join(self.dirs[ctrl], name)) as f:
            return f.read().strip()

    def remove(self) -> None:
        for d in self.dirs.values():
            try:
                os.rmdir(d)
            except OSError:
                pass


def _make_cpuset_dirs(base: str, rel: str) -> None:
    """cgroup v1 cpuset: a new cgroup starts with no CPUs and no memory nodes, and
    takes no task until it has both; each level made here gets its parent's."""
    parent = base
    for name in rel.split("/"):
        path = os.path.join(parent, name)
        os.makedirs(path, exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):
            with open(os.path.join(path, knob)) as f:
                if f.read().strip():
                    continue
            with open(os.path.join(parent, knob)) as f:
                inherited = f.read().strip()
            with open(os.path.join(path, knob), "w") as f:
                f.write(inherited)
        parent = path


def _enable_v2_controller(name: str, rel: str) -> None:
    """cgroup v2: `name` enabled in the subtree_control of every ancestor of `rel`."""
    parent = CGROUP_ROOT
    for part in [""] + rel.split("/")[:-1]:
        parent = os.path.join(parent, part) if part else parent
        os.makedirs(parent, exist_ok=True)
        control = os.path.join(parent, "cgroup.subtree_control")
        with open(control) as f:
            if name in f.read().split():
                continue
        try:
            with open(control, "w") as f:
                f.write(f"+{name}")
        except OSError as exc:
            raise CgroupError(f"cannot enable the {name} controller in {parent}: "
                              f"{exc.strerror}") from None


class SampledLimits:
    """Memory and pids limits where no cgroup can be made (rootless): the sandbox's
    processes, found from its init down, are sampled every INTERVAL seconds. Memory is
    the sum of their proportional set sizes (each shared page counted once, as a cgroup
    counts it); above the limit the application is killed, as the OOM killer would. A
    program can overshoot the memory limit by what it touches in one interval. The pids
    limit is checked by the sentry on every clone, fork and vfork (count_tasks, refused
    with EAGAIN at the limit, as pids.max refuses), with RLIMIT_NPROC, counted per user in
    the sandbox's own user namespace, behind it for forks that race the check."""

    INTERVAL = 0.05

    def __init__(self, init_pid: int, limits: Limits):
        self.init_pid = init_pid
        self.memory = limits.memory
        self.memory_hit = False
        self.pids_hit = False

    def count_tasks(self) -> int:
        """Processes and threads in the sandbox now (what a cgroup's pids counts)."""
        return sum(_threads(pid) for pid in _descendants(self.init_pid))

    def sample_memory(self) -> int:
        """The sandbox's memory in use now; memory_hit is set above the limit."""
        used = sum(_pss(pid) for pid in _descendants(self.init_pid))
        if self.memory is not None and used > self.memory:
            self.memory_hit = True
        return used


def _descendants(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                continue
    return out


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0
