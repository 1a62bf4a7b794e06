"""Policy profiles (`sandvisor do --profile FILE`), TOML:

    [filesystem]
    readable = ["/usr", "/lib", "/etc/ld.so.cache"]  # if given: nothing else is visible
    overlay = ["/tmp"]                               # visible, writable, writes discarded
    tmpfs = ["/scratch"]                             # fresh, writable, discarded
    writable = []                                    # host paths bound read-write
    hidden = ["/etc/shadow"]                         # absent inside (ENOENT)

    [network]
    mode = "none"                                    # none | host

    [syscalls]
    deny = ["socket", "ptrace"]                      # fail with EPERM

    [limits]
    memory = "256m"
    pids = 64
    cpu_seconds = 10
    wall_seconds = 30
    disk = "64m"

    [env]
    pass = ["PATH", "HOME", "LANG"]                  # only these of the caller's
    set = { LC_ALL = "C" }

Without `readable`, the root is the host's, read-only with a memory overlay, as for
`do` without a profile. The built-in default (`sandvisor do --profile default`) is
deny-by-default: the system directories only, read-only, a fresh /tmp, no network.
"""

from __future__ import annotations

import os
from dataclasses import replace

from sentry.cgroups import Limits
from sentry.config import ConfigError, SandboxConfig, Volume, parse_size
from syscalls.table import NUMBERS

DEFAULT_READABLE = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"]
DEFAULT_PROFILE = {
    "filesystem": {"readable": DEFAULT_READABLE, "tmpfs": ["/tmp"],
                   "hidden": ["/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers"]},
    "network": {"mode": "none"},
    "env": {"pass": ["PATH", "LANG", "TERM"]},
}
_SECTIONS = {"filesystem": {"readable", "overlay", "tmpfs", "writable", "hidden"},
             "network": {"mode"}, "syscalls": {"deny"},
             "limits": {"memory", "pids", "cpu_seconds", "wall_seconds", "disk"},
             "env": {"pass", "set"}}


def load(path: str) -> dict:
    if path == "default":
        return DEFAULT_PROFILE
    import tomllib  # a profile file is the exception: not every start-up's cost
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"--profile {path}: no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"--profile {path}: {exc}") from None
    check(data, path)
    return data


def check(data: dict, where: str) -> None:
    for section, body in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{where}: unknown section [{section}]")
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        unknown = set(body) - _SECTIONS[section]
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)} in [{section}]")
    fs = data.get("filesystem", {})
    for key in ("readable", "overlay", "tmpfs", "writable", "hidden"):
        paths = fs.get(key, [])
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/")
                                                  for p in paths):
            raise ConfigError(f"{where}: filesystem.{key} must be a list of absolute paths")
    mode = data.get("network", {}).get("mode", "none")
    if mode not in ("none", "host"):
        raise ConfigError(f"{where}: network.mode {mode!r}: use none or host "
                          "(allow-lists are not supported yet)")
    for name in data.get("syscalls", {}).get("deny", []):
        if name not in NUMBERS:
            raise ConfigError(f"{where}: syscalls.deny: unknown syscall {name!r}")


def apply(data: dict, cfg: SandboxConfig, caller_env: dict[str, str]) -> SandboxConfig:
    """The configuration the profile asks for, on top of the command line's."""
    fs = data.get("filesystem", {})
    cfg = replace(cfg, volumes=list(cfg.volumes), tmpfs=list(cfg.tmpfs))
    readable = fs.get("readable")
    if readable is not None:
        cfg.overlay = "empty"
        for path in readable:
            if os.path.lexists(path):
                cfg.volumes.append(Volume(path, path, readonly=True))
    for path in fs.get("overlay", []):
        if os.path.isdir(path):
            cfg.volumes.append(Volume(path, path, overlay=True))
    if fs.get("overlay") and readable is None:
        raise ConfigError("profile: filesystem.overlay needs filesystem.readable (without it "
                          "the whole root is an overlay already)")
    for path in fs.get("writable", []):
        if not os.path.exists(path):
            raise ConfigError(f"profile: writable path {path} does not exist on the host")
        cfg.volumes.append(Volume(path, path, readonly=False))
    cfg.tmpfs += fs.get("tmpfs", [])
    cfg.hidden = list(fs.get("hidden", []))
    cfg.network = data.get("network", {}).get("mode", "none")
    cfg.deny_syscalls = frozenset(data.get("syscalls", {}).get("deny", []))
    lim = data.get("limits", {})
    memory = parse_size(str(lim["memory"]), "limits.memory") if "memory" in lim else None
    cfg.limits = Limits(memory=memory, memory_swap=memory, pids=lim.get("pids"))
    cfg.cpu_seconds = lim.get("cpu_seconds", cfg.cpu_seconds)
    cfg.timeout = lim.get("wall_seconds", cfg.timeout)
    if "disk" in lim:
        cfg.disk_bytes = parse_size(str(lim["disk"]), "limits.disk")
    env = data.get("env")
    if env is not None:
        passed = {k: v for k, v in caller_env.items() if k in set(env.get("pass", []))}
        cfg.env = {**passed, **{str(k): str(v) for k, v in env.get("set", {}).items()}}
    return cfg


def dump(data: dict) -> str:
    """TOML for the profile shapes above (strings, ints, lists of strings, one table)."""
    out = []
    for section, body in data.items():
        out.append(f"[{section}]")
        for key, value in body.items():
            out.append(f"{key} = {_toml(value)}")
        out.append("")
    return "\n".join(out)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))
