"""A sandbox's configuration, checked before anything is started.

The CLI (`sandvisor do`), the OCI runtime and the Python API all build a
SandboxConfig; a bad value raises ConfigError with one line that says what to fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

from sentry.cgroups import Limits, format_cpu_list, parse_cpu_list


# What an application keeps by default: the set container runtimes grant (Docker's
# default profile); everything else (SYS_ADMIN, SYS_PTRACE, NET_ADMIN, ...) is dropped.
_DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                 "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                 "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"]
DEFAULT_CAPABILITIES = {"bounding": _DEFAULT_CAPS, "effective": _DEFAULT_CAPS,
                        "permitted": _DEFAULT_CAPS, "inheritable": []}


class ConfigError(Exception):
    """Bad configuration: the message is shown to the user as is."""


class Volume(NamedTuple):
    """A host path bound into the sandbox."""
    source: str      # host path
    target: str      # absolute path inside the sandbox
    readonly: bool = False
    overlay: bool = False   # the host's content, writable in memory (profiles)


@dataclass
class SandboxConfig:
    """Everything one sandbox is started with."""
    argv: list[str]
    root: str = "/"
    overlay: str = "memory"            # none | memory | dir=PATH (| bind: OCI rootfs)
    readonly_root: bool = False        # with bind: read-only once the mounts are made
    cgroup_dirs: dict[str, str] = field(default_factory=dict)  # shown read-only in /sys/fs/cgroup
    # limits: cgroups (memory bytes, pids, cpu quota), RLIMIT_CPU, the overlay's size
    limits: Limits = field(default_factory=Limits)
    cgroup_path: str | None = None
    cpu_seconds: int | None = None
    disk_bytes: int | None = None
    result_json: str | None = None     # write the outcome (status, limit hit, usage) here
    audit_log: str | None = None       # JSON lines, one per trapped syscall, and a summary
    hidden: list[str] = field(default_factory=list)   # paths absent inside (profiles)
    deny_syscalls: frozenset[str] = frozenset()        # denied with EPERM (profiles)
    volumes: list[Volume] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    network: str = "none"              # none | host
    cwd: str | None = None
    env: dict[str, str] | None = None  # None: the caller's environment
    hostname: str = "sandvisor"
    uid: int | None = None
    gid: int | None = None
    platform: str = "auto"
    file_access: str = "direct"        # direct (the sentry walks beneath the donated root) | gofer
    strace: bool = False
    strace_log: str | None = None
    strace_syscalls: frozenset[str] | None = None   # None: every trapped syscall
    strace_log_size: int = 64          # bytes of each string or buffer shown
    debug_log: str | None = None
    timeout: float | None = None
    # OCI containers: the application itself is pid 1 (runc's semantics), and it waits
    # at a start gate after create. `do` keeps a reaping init and starts at once.
    reaper: bool = True
    gated: bool = False
    # Landlock keeps the application to the files beneath its view (sentry/init.py).
    # Not for OCI containers: each `exec` would be a sibling Landlock domain, which
    # Landlock cuts off from the container's other processes' /proc/PID (environ, maps,
    # fd); their stdio is the engine's pipes and ptys, not host files.
    confine_files: bool = True
    rlimits: list[tuple[int, int, int]] = field(default_factory=list)  # (resource, soft, hard)
    additional_gids: list[int] = field(default_factory=list)
    terminal: bool = False     # OCI process.terminal: a new pty inside, master sent out
    # the application's capabilities: {"bounding"|"effective"|"permitted"|"inheritable": [names]}
    capabilities: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_CAPABILITIES))
    # OCI linux.seccomp compiled to BPF (sentry.oci.seccomp): loaded in the application
    # child before the sandbox's own filter
    app_seccomp: bytes | None = None
    # set by the Supervisor: an unprivileged caller, in a user namespace of its own
    rootless: bool = False

    def check(self) -> None:
        if not self.argv:
            raise ConfigError("no command given: sandvisor do [OPTIONS] -- CMD [ARGS...]")
        if not os.path.isabs(self.root):
            raise ConfigError(f"--root {self.root!r}: give an absolute path")
        if not os.path.isdir(self.root):
            raise ConfigError(f"--root {self.root}: no such directory")
        if self.overlay not in ("none", "memory", "bind", "empty") \
                and not self.overlay.startswith("dir="):
            raise ConfigError(f"--overlay {self.overlay!r}: use none, memory or dir=PATH")
        if self.overlay.startswith("dir="):
            where = self.overlay[4:]
            if not os.path.isabs(where) or not os.path.isdir(where):
                raise ConfigError(f"--overlay dir={where}: give an existing absolute directory")
        if self.file_access not in ("direct", "gofer"):
            raise ConfigError(f"--file-access {self.file_access!r}: use direct or gofer")
        if self.network not in ("none", "host"):
            raise ConfigError(f"--network {self.network!r}: use none or host")
        for path in self.tmpfs:
            if not path.startswith("/"):
                raise ConfigError(f"--tmpfs {path!r}: give an absolute path inside the sandbox")
        if self.cwd is not None and not self.cwd.startswith("/"):
            raise ConfigError(f"--cwd {self.cwd!r}: give an absolute path inside the sandbox")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"--timeout {self.timeout}: give a positive number of seconds")
        for name, value in (("--memory", self.limits.memory), ("--pids-limit", self.limits.pids),
                            ("--cpu-seconds", self.cpu_seconds), ("--disk", self.disk_bytes)):
            if value is not None and value <= 0:
                raise ConfigError(f"{name} {value}: give a positive number")
        if self.limits.cpus is not None:
            usable = os.sched_getaffinity(0)
            if not self.limits.cpus or not self.limits.cpus <= usable:
                raise ConfigError(
                    f"cpuset {format_cpu_list(self.limits.cpus) or '(empty)'}: CPUs "
                    f"{format_cpu_list(self.limits.cpus - usable) or '(none)'} are not "
                    f"available here; this process may use {format_cpu_list(usable)}")
        if self.disk_bytes is not None and self.overlay != "memory":
            raise ConfigError("--disk limits the memory overlay: use it with --overlay memory")
        if self.strace_log_size < 0:
            raise ConfigError(f"--strace-log-size {self.strace_log_size}: give a size >= 0")
        if len(self.hostname) > 64:
            raise ConfigError("--hostname: at most 64 characters")
        for option, path in (("--debug-log", self.debug_log), ("--strace-log", self.strace_log),
                             ("--audit-log", self.audit_log),
                             ("--result-json", self.result_json)):
            if path:
                _check_writable(option, path)


def _check_writable(option: str, path: str) -> None:
    """That the file can be written (or created), checked before anything starts; an
    error otherwise, naming the option. Nothing is created here."""
    if os.path.isdir(path):
        raise ConfigError(f"{option} {path}: is a directory; give a file")
    exists = os.path.lexists(path)
    where = path if exists else os.path.dirname(os.path.abspath(path))
    if not exists:
        try:
            os.stat(where)
        except FileNotFoundError:
            raise ConfigError(f"{option} {path}: no directory {where}; create it or choose "
                              "another") from None
        except OSError as exc:
            raise ConfigError(f"{option} {path}: cannot reach {where} ({exc.strerror}); "
                              "choose a path you can write") from None
    if not os.access(where, os.W_OK):
        what = "the file" if exists else f"directory {where}"
        raise ConfigError(f"{option} {path}: {what} is not writable by this user; "
                          "choose a path you can write")


def parse_volume(spec: str) -> Volume:
    """HOST:SANDBOX[:ro|rw]"""
    parts = spec.split(":")
    mode = "rw"
    if len(parts) == 3:
        mode = parts.pop()
    if len(parts) != 2 or mode not in ("ro", "rw") or not all(parts):
        raise ConfigError(f"--volume {spec!r}: use HOST:SANDBOX[:ro|rw]")
    source, target = parts
    if not os.path.isabs(source) or not os.path.isabs(target):
        raise ConfigError(f"--volume {spec!r}: both paths must be absolute")
    if not os.path.exists(source):
        raise ConfigError(f"--volume {spec!r}: {source} does not exist on the host")
    return Volume(source, target, mode == "ro")


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(spec: str, what: str) -> int:
    """A byte count with an optional k/m/g suffix (powers of 1024)."""
    text = spec.strip().lower().removesuffix("b")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    try:
        value = int(text[: len(text) - len(unit)]) * _UNITS[unit]
    except ValueError:
        raise ConfigError(f"{what} {spec!r}: give bytes, e.g. 512m or 2g") from None
    if value <= 0:
        raise ConfigError(f"{what} {spec!r}: give a positive size")
    return value


def parse_cpuset(spec: str, what: str) -> frozenset[int]:
    """A CPU list such as 0-2,5."""
    try:
        return parse_cpu_list(spec)
    except ValueError as exc:
        raise ConfigError(f"{what} {exc}") from None


def parse_user(spec: str) -> tuple[int, int | None]:
    """UID[:GID]"""
    uid, _, gid = spec.partition(":")
    try:
        return int(uid), (int(gid) if gid else None)
    except ValueError:
        raise ConfigError(f"--user {spec!r}: use numeric UID[:GID]") from None


def parse_syscalls(spec: str, what: str) -> frozenset[str]:
    """A comma-separated list of x86_64 syscall names."""
    from syscalls.table import NUMBERS
    names = frozenset(n.strip() for n in spec.split(",") if n.strip())
    unknown = sorted(n for n in names if n not in NUMBERS)
    if unknown or not names:
        raise ConfigError(f"{what} {spec!r}: unknown syscall names {unknown} "
                          "(see `sandvisor help syscalls`)" if unknown else f"{what}: empty list")
    return names
