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
    memory: int | None = None         # bytes
    memory_swap: int | None = None    # memory + swap, bytes (OCI's memory.swap)
    pids: int | None = None
    cpu_quota: int | None = None      # microseconds per period
    cpu_period: int | None = None
    cpu_shares: int | None = None

    @classmethod
    def from_oci(cls, resources: dict) -> "Limits":
        mem = resources.get("memory") or {}
        cpu = resources.get("cpu") or {}
        pids = resources.get("pids") or {}
        return cls(memory=_positive(mem.get("limit")), memory_swap=_positive(mem.get("swap")),
                   pids=_positive(pids.get("limit")), cpu_quota=_positive(cpu.get("quota")),
                   cpu_period=_positive(cpu.get("period")), cpu_shares=_positive(cpu.get("shares")))

    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


def _positive(value) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


def version() -> int:
    return 1 if os.path.isdir(os.path.join(CGROUP_ROOT, "memory")) else 2


@dataclass
class Cgroup:
    path: str                               # e.g. /sandvisor/ID (relative to each hierarchy)
    dirs: dict[str, str] = field(default_factory=dict)   # controller (or "unified") -> dir

    def create(self, limits: Limits) -> None:
        rel = self.path.strip("/")
        if not rel or ".." in rel.split("/"):
            raise CgroupError(f"bad cgroup path {self.path!r}")
        try:
            if version() == 1:
                for ctrl in V1_CONTROLLERS:
                    base = os.path.join(CGROUP_ROOT, ctrl)
                    if os.path.isdir(base):
                        self.dirs[ctrl] = os.path.join(base, rel)
                        os.makedirs(self.dirs[ctrl], exist_ok=True)
                self._write_v1(limits)
            else:
                self.dirs["unified"] = os.path.join(CGROUP_ROOT, rel)
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

    def _write_v2(self, lim: Limits) -> None:
        self._write("unified", "memory.max", lim.memory)
        if lim.memory_swap is not None and lim.memory is not None:
            self._write("unified", "memory.swap.max", max(lim.memory_swap - lim.memory, 0))
        self._write("unified", "pids.max", lim.pids)
        if lim.cpu_quota is not None:
            self._write("unified", "cpu.max", f"{lim.cpu_quota} {lim.cpu_period or 100000}")

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
