"""OCI bundles: reading config.json into a SandboxConfig.

What sandvisor cannot honour is refused with a clear error, unless ignoring it is
what runc does; what it ignores on purpose is listed in IGNORED_MOUNT_TYPES and noted
in the debug log.
"""

from __future__ import annotations

import json
import os
import resource
from dataclasses import dataclass, field

from sentry import ffi
from sentry.cgroups import Limits
from sentry.config import ConfigError, SandboxConfig, Volume

# mounts sandvisor provides itself, whatever the config says (the view always has them)
PROVIDED_MOUNTS = {("/proc", "proc"), ("/sys", "sysfs"), ("/dev", "tmpfs"),
                   ("/dev/pts", "devpts"), ("/dev/mqueue", "mqueue"), ("/dev/shm", "tmpfs"),
                   ("/dev/shm", "bind")}
# cgroup filesystems are not mounted inside (limits are applied from outside)
IGNORED_MOUNT_TYPES = {"cgroup", "cgroup2"}
SUPPORTED_NAMESPACES = {"pid", "network", "ipc", "uts", "mount", "cgroup"}
RLIMITS = {name: getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")}
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop")


@dataclass
class Hook:
    path: str
    args: list[str]
    env: list[str]
    timeout: int | None


@dataclass
class Bundle:
    path: str
    config: dict
    sandbox: SandboxConfig
    rootfs: str
    terminal: bool
    hooks: dict[str, list[Hook]] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)   # what was ignored, for the debug log


def load_bundle(bundle: str, platform: str = "auto") -> Bundle:
    bundle = os.path.abspath(bundle)
    path = os.path.join(bundle, "config.json")
    if not os.path.isdir(bundle):
        raise ConfigError(f"bundle {bundle}: no such directory")
    try:
        with open(path) as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"bundle {bundle} has no config.json") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: not a JSON object")
    return parse_config(config, bundle, platform)


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


def parse_process(proc: dict, base: SandboxConfig | None = None) -> SandboxConfig:
    """The `process` object (of config.json, or of an exec --process file)."""
    _need(isinstance(proc, dict), "process: must be an object")
    args = proc.get("args")
    _need(isinstance(args, list) and args and all(isinstance(a, str) for a in args),
          "process.args: must be a non-empty list of strings")
    env_list = proc.get("env", [])
    _need(isinstance(env_list, list), "process.env: must be a list")
    env = {}
    for item in env_list:
        key, sep, value = str(item).partition("=")
        if sep:
            env[key] = value
    user = proc.get("user", {}) or {}
    cwd = proc.get("cwd", "/")
    _need(isinstance(cwd, str) and cwd.startswith("/"), "process.cwd: must be an absolute path")
    rlimits = []
    for rl in proc.get("rlimits", []) or []:
        kind = rl.get("type")
        _need(kind in RLIMITS, f"process.rlimits: unknown type {kind!r}")
        rlimits.append((RLIMITS[kind], int(rl.get("soft", 0)), int(rl.get("hard", 0))))
    cfg = SandboxConfig(argv=list(args)) if base is None else _copy(base, list(args))
    cfg.env = env
    cfg.cwd = cwd
    cfg.uid = int(user.get("uid", 0))
    cfg.gid = int(user.get("gid", 0))
    cfg.additional_gids = [int(g) for g in user.get("additionalGids", []) or []]
    cfg.rlimits = rlimits
    caps = proc.get("capabilities")
    if caps is not None:
        _need(isinstance(caps, dict), "process.capabilities: must be an object")
        cfg.capabilities = {k: list(caps.get(k) or []) for k in
                            ("bounding", "effective", "permitted", "inheritable")}
        try:
            for names in cfg.capabilities.values():
                ffi.cap_mask(names)
        except ValueError as exc:
            raise ConfigError(f"process.capabilities: {exc}") from None
    return cfg


def _copy(base: SandboxConfig, argv: list[str]) -> SandboxConfig:
    import dataclasses
    return dataclasses.replace(base, argv=argv, volumes=list(base.volumes),
                               tmpfs=list(base.tmpfs))


def parse_config(config: dict, bundle: str, platform: str = "auto") -> Bundle:
    notes: list[str] = []
    proc = config.get("process")
    _need(isinstance(proc, dict), "config.json: process is missing")
    cfg = parse_process(proc)
    root = config.get("root") or {}
    root_path = root.get("path")
    _need(isinstance(root_path, str) and root_path, "config.json: root.path is missing")
    rootfs = root_path if os.path.isabs(root_path) else os.path.join(bundle, root_path)
    if os.path.islink(rootfs):
        raise ConfigError(f"invalid rootfs {rootfs}: a symlink")
    _need(os.path.isdir(rootfs), f"rootfs {rootfs}: no such directory")
    cfg.root = rootfs
    # runc's way: mount points are created in the rootfs, then it turns read-only
    cfg.overlay = "bind"
    cfg.readonly_root = bool(root.get("readonly"))
    cfg.hostname = str(config.get("hostname") or "sandvisor")
    cfg.platform = platform
    cfg.reaper = False
    cfg.gated = True
    cfg.confine_files = False   # see SandboxConfig.confine_files
    linux = config.get("linux") or {}
    namespaces = {ns.get("type"): ns for ns in linux.get("namespaces", []) or []}
    for kind, ns in namespaces.items():
        if kind not in SUPPORTED_NAMESPACES and kind != "user":
            raise ConfigError(f"linux.namespaces: unknown namespace type {kind!r}")
        if kind == "user":
            raise ConfigError("linux.namespaces: user namespaces are not supported yet")
        if ns.get("path"):
            raise ConfigError(f"linux.namespaces: joining an existing {kind} namespace "
                              f"({ns['path']}) is not supported")
    cfg.network = "none" if "network" in namespaces else "host"
    if linux.get("uidMappings") or linux.get("gidMappings"):
        raise ConfigError("linux.uidMappings: user namespaces are not supported yet")
    for mount in config.get("mounts", []) or []:
        _add_mount(cfg, mount, bundle, notes)
    if linux.get("seccomp"):
        from sentry.oci.seccomp import compile_profile
        cfg.app_seccomp = compile_profile(linux["seccomp"])
    hooks = {}
    for kind in HOOK_KINDS:
        entries = (config.get("hooks") or {}).get(kind) or []
        hooks[kind] = [Hook(h["path"], list(h.get("args") or [h["path"]]),
                            list(h.get("env") or []), h.get("timeout")) for h in entries]
    try:
        cfg.limits = Limits.from_oci(dict(linux.get("resources") or {}))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    cfg.check()   # here, so that create says what is wrong (the cpuset's CPUs must exist)
    return Bundle(bundle, config, cfg, rootfs, bool(proc.get("terminal")), hooks,
                  dict(config.get("annotations") or {}), notes)


def _add_mount(cfg: SandboxConfig, mount: dict, bundle: str, notes: list[str]) -> None:
    dest = mount.get("destination")
    kind = mount.get("type") or ("bind" if "bind" in (mount.get("options") or []) else None)
    options = mount.get("options") or []
    _need(isinstance(dest, str) and dest.startswith("/"),
          f"mounts: destination {dest!r} must be an absolute path")
    if (dest, kind) in PROVIDED_MOUNTS:
        return
    if kind in IGNORED_MOUNT_TYPES:
        notes.append(f"mount {dest} ({kind}) is not mounted inside")
        return
    if kind == "bind" or "bind" in options or "rbind" in options:
        source = mount.get("source", "")
        if not os.path.isabs(source):
            source = os.path.join(bundle, source)
        _need(os.path.exists(source), f"mount {dest}: source {source} does not exist")
        cfg.volumes.append(Volume(source, dest, "ro" in options))
        return
    if kind == "tmpfs":
        unknown = [o for o in options if o not in _TMPFS_OK and not o.startswith(("mode=", "size="))]
        if unknown:
            notes.append(f"mount {dest}: options {unknown} ignored")
        cfg.tmpfs.append(dest)
        return
    raise ConfigError(f"mount {dest}: type {kind!r} is not supported")


_TMPFS_OK = {"rw", "ro", "nosuid", "nodev", "noexec", "strictatime", "relatime", "rprivate",
             "private", "tmpcopyup"}
