"""Building the sandbox's filesystem view, in the gofer's own mount namespace.

The gofer opens every host source first, then in a private mount namespace mounts
the root (an overlay whose upper layer is memory or a directory, or a read-only bind),
a minimal /dev, the volumes and tmpfs mounts, and pivots into it: from then on the
gofer's "/" is the sandbox's "/" and nothing else of the host is reachable by path.
The application later joins this same mount namespace (sentry.init), so the files the
gofer opens and the ones the kernel opens itself (ELF interpreters, '#!' lines) are
the same objects, and /proc/PID/fd links read the same in both.

Mount targets are resolved inside the root (openat2 RESOLVE_IN_ROOT): a symlink in a
root filesystem can never send a mount outside it.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import NamedTuple

from sentry import ffi
from sentry.config import ConfigError, SandboxConfig

STAGING = "/dev"   # shadowed only inside the gofer's private mount namespace; never a layer
# of the root (the sandbox gets a /dev of its own), so no layer reads the staging tmpfs
SKELETON_DEPTH = 3  # rootless: how deep below the root to look for writable directories
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
             "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
             "ptmx": "pts/ptmx"}
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def _fdpath(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


class ViewBuilder:
    def __init__(self, cfg: SandboxConfig):
        self.cfg = cfg
        # Sources must be opened inside the new mount namespace (the kernel refuses to
        # bind or overlay mounts of another namespace), before any mount shadows them.
        ffi.unshare(ffi.CLONE_NEWNS)
        ffi.mount(None, "/", None, ffi.MS_REC | ffi.MS_PRIVATE)
        try:
            self.root_src = os.open(cfg.root, _DIR)
        except OSError as exc:
            raise ConfigError(f"--root {cfg.root}: {exc.strerror}") from None
        self.vol_src = []
        for vol in cfg.volumes:
            try:
                self.vol_src.append(os.open(vol.source, os.O_PATH | os.O_CLOEXEC))
            except OSError as exc:
                raise ConfigError(f"--volume {vol.source}: {exc.strerror}") from None
        self.dev_src = {}
        for name in DEVICES:
            try:
                self.dev_src[name] = os.open(f"/dev/{name}", os.O_PATH | os.O_CLOEXEC)
            except OSError:
                pass  # a host without /dev/tty, say: the sandbox goes without
        self.overlay_dirs = None   # (upper, work) fds of --overlay dir=PATH
        if cfg.overlay.startswith("dir="):
            fds = []
            for sub in ("upper", "work"):
                path = os.path.join(cfg.overlay[4:], sub)
                os.makedirs(path, exist_ok=True)
                fds.append(os.open(path, _DIR))
            self.overlay_dirs = tuple(fds)
        self.proc_self_fd = os.open("/proc/self/fd", _DIR)
        # rootless: the host's mounts below the root are locked in this namespace, and
        # overlayfs refuses a lower layer with locked mounts beneath it
        self.compose = cfg.rootless and cfg.overlay in ("memory", "none") \
            and _has_mounts_beneath(cfg.root)
        # its top-level entries, opened before the staging tmpfs covers /dev
        self.top = _top_entries(self.root_src) if self.compose else []
        # kept open past the pivot: shown inside once the sandbox's sysfs exists
        # (as detached copies: a bind from the old root fails once it is detached)
        self.cgroup_src = {ctrl: ffi.open_tree_clone(path) for ctrl, path in cfg.cgroup_dirs.items()}
        # The caller's terminal, if stdio is one: the only host pty the sandbox sees.
        self.tty_src = None
        for fd in (0, 1, 2):
            try:
                name = os.ttyname(fd)
            except OSError:
                continue
            if name.startswith("/dev/pts/"):
                self.tty_src = (name.rsplit("/", 1)[1], os.open(name, os.O_PATH | os.O_CLOEXEC))
                break

    def build(self) -> int:
        """Mount the view and pivot into it; returns an O_PATH fd of the new root."""
        size = f",size={self.cfg.disk_bytes}" if self.cfg.disk_bytes else ""
        ffi.mount("sandvisor", STAGING, "tmpfs", ffi.MS_NOSUID | ffi.MS_NODEV, "mode=700" + size)
        new_root = f"{STAGING}/root"
        os.mkdir(new_root)
        self._mount_root(new_root)
        root_fd = os.open(new_root, _DIR)
        try:
            self._mount_dev(root_fd)
            for vol, src in zip(self.cfg.volumes, self.vol_src):
                self._mount_volume(root_fd, vol, src)
            for path in self.cfg.tmpfs:
                target = self._ensure(root_fd, path, directory=True)
                ffi.mount("tmpfs", _fdpath(target), "tmpfs", ffi.MS_NOSUID | ffi.MS_NODEV,
                          "mode=1777")
                os.close(target)
            for path in ("proc", "sys"):
                os.close(self._ensure(root_fd, path, directory=True))
            for path in self.cfg.hidden:
                self._mask(root_fd, path)
        finally:
            os.close(root_fd)
        if self.cfg.readonly_root or (self.compose and self.cfg.overlay == "none"):
            _make_readonly(new_root)
        os.chdir(new_root)
        ffi.pivot_root(".", ".")
        ffi.umount2(".", ffi.MNT_DETACH)
        os.chdir("/")
        root = os.open("/", _DIR)
        # The gofer works in its own /proc/self/fd (kept from the host's procfs) so
        # that an O_PATH descriptor N can be reached by the relative name "N".
        os.fchdir(self.proc_self_fd)
        for fd in [self.root_src, *self.vol_src, *self.dev_src.values(), self.proc_self_fd,
                   *(self.overlay_dirs or ())]:
            os.close(fd)
        return root

    def _mount_root(self, new_root: str) -> None:
        mode = self.cfg.overlay
        if self.compose:
            self._compose_root(new_root)
            return
        if mode == "empty":
            # profiles with a `readable` list: nothing but what they bind in
            ffi.mount("sandvisor-root", new_root, "tmpfs", ffi.MS_NOSUID, "mode=755")
            return
        if mode in ("none", "bind"):
            # none: the root read-only; bind: the root itself, writable (OCI bundles)
            ffi.mount(_fdpath(self.root_src), new_root, None, ffi.MS_BIND)
            if mode == "none":
                _make_readonly(new_root)
            return
        if self.overlay_dirs is None:
            upper, work = f"{STAGING}/upper", f"{STAGING}/work"
            os.mkdir(upper)
            os.mkdir(work)
            if self.cfg.rootless:
                _writable_skeleton(_fdpath(self.root_src), upper, SKELETON_DEPTH)
        else:  # opened before the staging tmpfs hid their paths
            upper, work = (_fdpath(fd) for fd in self.overlay_dirs)
        opts = f"lowerdir={_fdpath(self.root_src)},upperdir={upper},workdir={work}"
        try:
            ffi.mount("overlay", new_root, "overlay", 0, opts)
        except OSError as exc:
            raise ConfigError(f"cannot mount the overlay over {self.cfg.root}: {exc.strerror}; "
                              "try --overlay none") from None

    def _compose_root(self, new_root: str) -> None:
        """Rootless, a root with mounts beneath (the host's /): a directory of the staging
        tmpfs holding one layer per top-level entry, so that each directory without
        mounts below it gets its own overlay (or read-only bind), and one with mounts
        below it (locked here) a read-only recursive bind. /dev, /proc and /sys are the
        sandbox's own."""
        memory = self.cfg.overlay == "memory"
        # the root directory lives on the staging tmpfs with the upper layers, so the
        # root's statfs shows the --disk limit they share (sentry.runner._overlay_full)
        os.chmod(new_root, os.fstat(self.root_src).st_mode & 0o7777)
        ffi.mount(new_root, new_root, None, ffi.MS_BIND)
        for top in self.top:
            target = os.path.join(new_root, top.name)
            if top.name in ("dev", "proc", "sys"):
                os.mkdir(target, 0o755)
            elif top.link is not None:
                os.symlink(top.link, target)
            elif stat.S_ISDIR(top.mode):
                os.mkdir(target, 0o755)
                self._layer(top, target, memory)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
                ffi.mount(_fdpath(top.fd), target, None, ffi.MS_BIND)
                _make_readonly(target)
        for top in self.top:
            if top.fd >= 0:
                os.close(top.fd)

    def _layer(self, top: "_Top", target: str, memory: bool) -> None:
        lower = _fdpath(top.fd)
        if memory:
            layer = os.path.join(STAGING, f"top-{top.name}")
            upper, work = f"{layer}/upper", f"{layer}/work"
            for path in (layer, upper, work):
                os.mkdir(path)
            # a layer nothing can be written to stays a read-only bind: it shows its real
            # owner and mode rather than the upper layer's
            if _writable_skeleton(lower, upper, SKELETON_DEPTH - 1) \
                    or _writable_by_caller(os.stat(lower)):
                os.chmod(upper, top.mode & 0o7777)
                try:
                    ffi.mount("overlay", target, "overlay", 0,
                              f"lowerdir={lower},upperdir={upper},workdir={work}")
                    return
                except OSError as exc:
                    if exc.errno != errno.EINVAL:  # EINVAL: locked mounts beneath it
                        raise
        try:
            ffi.mount(lower, target, None, ffi.MS_BIND)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            ffi.mount(lower, target, None, ffi.MS_BIND | ffi.MS_REC)
        _make_readonly(target, recursive=True)

    def _mount_dev(self, root_fd: int) -> None:
        dev = self._ensure(root_fd, "/dev", directory=True)
        try:
            ffi.mount("tmpfs", _fdpath(dev), "tmpfs", ffi.MS_NOSUID | ffi.MS_NOEXEC,
                      "mode=755,size=1m")
        finally:
            os.close(dev)
        dev = ffi.openat2(root_fd, "dev", _DIR, 0, ffi.RESOLVE_IN_ROOT)  # the new tmpfs
        try:
            for name, src in self.dev_src.items():
                os.close(os.open(name, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o666,
                                 dir_fd=dev))
                node = os.open(name, os.O_PATH | os.O_CLOEXEC, dir_fd=dev)
                try:
                    ffi.mount(_fdpath(src), _fdpath(node), None, ffi.MS_BIND)
                finally:
                    os.close(node)
                # read-only: the node is the host's own, and a chmod, chown, utimes or
                # xattr through it changed the host's /dev/null (found in stop 20);
                # reading and writing a device ignore the mount's flag
                _make_readonly(f"{_fdpath(dev)}/{name}")
            for name, target in DEV_LINKS.items():
                os.symlink(target, name, dir_fd=dev)
            for name in ("pts", "shm", "mqueue"):
                os.mkdir(name, 0o755, dir_fd=dev)
            shm = os.open("shm", _DIR, dir_fd=dev)
            ffi.mount("shm", _fdpath(shm), "tmpfs", ffi.MS_NOSUID | ffi.MS_NODEV, "mode=1777")
            os.close(shm)
            pts = os.open("pts", _DIR, dir_fd=dev)
            try:
                if self.tty_src is not None:
                    self._bind_tty(pts)
                else:
                    ffi.mount("devpts", _fdpath(pts), "devpts", ffi.MS_NOSUID | ffi.MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=620")
            except OSError:
                pass  # no ptys inside; everything else works
            os.close(pts)
        finally:
            os.close(dev)

    def _mask(self, root_fd: int, path: str) -> None:
        """Cover a hidden path (the VFS already answers ENOENT for it; this keeps the
        kernel's own lookups, e.g. for execve, from reaching it either)."""
        try:
            target = ffi.openat2(root_fd, path, os.O_PATH | os.O_CLOEXEC, 0, ffi.RESOLVE_IN_ROOT)
        except FileNotFoundError:
            return
        try:
            if os.path.isdir(_fdpath(target)):
                ffi.mount("hidden", _fdpath(target), "tmpfs", ffi.MS_RDONLY | ffi.MS_NOSUID,
                          "mode=000,size=4k")
            elif "null" in self.dev_src:
                ffi.mount(_fdpath(self.dev_src["null"]), _fdpath(target), None, ffi.MS_BIND)
        finally:
            os.close(target)

    def _bind_tty(self, pts: int) -> None:
        """The caller's own pty node, alone, under the same name: ttyname() and
        /dev/tty work inside, and no other host terminal is reachable."""
        name, src = self.tty_src
        os.close(os.open(name, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600, dir_fd=pts))
        node = os.open(name, os.O_PATH | os.O_CLOEXEC, dir_fd=pts)
        try:
            ffi.mount(_fdpath(src), _fdpath(node), None, ffi.MS_BIND)
        finally:
            os.close(node)
            os.close(src)

    def _mount_volume(self, root_fd: int, vol, src: int) -> None:
        is_dir = os.path.isdir(_fdpath(src))
        target = self._ensure(root_fd, vol.target, directory=is_dir)
        try:
            if vol.overlay and is_dir:
                layer = os.path.join(STAGING, f"vol-{src}")
                for sub in ("", "/upper", "/work"):
                    os.mkdir(layer + sub)
                ffi.mount("overlay", _fdpath(target), "overlay", 0,
                          f"lowerdir={_fdpath(src)},upperdir={layer}/upper,workdir={layer}/work")
            else:
                ffi.mount(_fdpath(src), _fdpath(target), None, ffi.MS_BIND | ffi.MS_REC)
        finally:
            os.close(target)
        if vol.readonly:
            target = ffi.openat2(root_fd, vol.target, os.O_PATH | os.O_CLOEXEC, 0,
                                 ffi.RESOLVE_IN_ROOT)
            try:
                ffi.mount_setattr(target, ffi.MOUNT_ATTR_RDONLY | ffi.MOUNT_ATTR_NOSUID,
                                  recursive=True)
            finally:
                os.close(target)

    def _ensure(self, root_fd: int, path: str, directory: bool) -> int:
        """O_PATH fd of `path` inside the root, creating it (and its parents) if
        missing; symlinks on the way resolve inside the root."""
        try:
            return ffi.openat2(root_fd, path, os.O_PATH | os.O_CLOEXEC, 0, ffi.RESOLVE_IN_ROOT)
        except FileNotFoundError:
            pass
        parent_path, _, name = path.rstrip("/").rpartition("/")
        parent = self._ensure(root_fd, parent_path or "/", directory=True)
        try:
            if directory:
                os.mkdir(name, 0o755, dir_fd=parent)
            else:
                os.close(os.open(name, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644,
                                 dir_fd=parent))
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno == errno.EROFS:
                raise ConfigError(f"{path} does not exist in the read-only root and cannot "
                                  "be created; create it or use --overlay memory") from None
            raise
        finally:
            os.close(parent)
        return ffi.openat2(root_fd, path, os.O_PATH | os.O_CLOEXEC, 0, ffi.RESOLVE_IN_ROOT)


class _Top(NamedTuple):
    name: str
    mode: int
    link: str | None = None    # a symlink's target
    fd: int = -1               # O_PATH of a directory or a file


def _top_entries(root_fd: int) -> list[_Top]:
    """The root's directories, files and symlinks (sockets, fifos, devices at the top
    of a root are left out)."""
    out = []
    for name in os.listdir(_fdpath(root_fd)):
        try:
            st = os.lstat(name, dir_fd=root_fd)
            if stat.S_ISLNK(st.st_mode):
                out.append(_Top(name, st.st_mode, link=os.readlink(name, dir_fd=root_fd)))
            elif stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
                out.append(_Top(name, st.st_mode, fd=fd))
        except OSError:
            continue  # gone meanwhile, or unreadable: left out
    return out


def _make_readonly(path: str, recursive: bool = False) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        ffi.mount_setattr(fd, ffi.MOUNT_ATTR_RDONLY | ffi.MOUNT_ATTR_NOSUID, recursive)
    finally:
        os.close(fd)


def _has_mounts_beneath(root: str) -> bool:
    real = os.path.realpath(root).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(real) and point != real.rstrip("/"):
                return True
    return False


def _writable_skeleton(lower: str, upper: str, depth: int) -> bool:
    """Rootless memory overlay: overlayfs cannot copy up a directory whose owner is
    outside the user namespace (root's /tmp or /home, say). The directories of the
    lower layer on the way to where an unprivileged user can write natively (world-
    writable ones, and those on the way to its own) are made in the upper layer
    beforehand, with their modes: writing there works, in memory; elsewhere the gofer
    answers EACCES, as natively. Returns whether a directory within `depth` levels is
    writable by the caller."""
    found = False
    for entry, st in _subdirs(lower):
        if st.st_uid == os.geteuid():
            found = True  # the caller's own: overlayfs copies it up itself
            continue
        target = os.path.join(upper, entry.name)
        if st.st_mode & 0o002:
            os.mkdir(target)
            os.chmod(target, st.st_mode & 0o7777)
            found = True
        elif depth > 1:
            os.mkdir(target)
            if _writable_skeleton(entry.path, target, depth - 1):
                os.chmod(target, st.st_mode & 0o7777)
                found = True
            else:
                os.rmdir(target)  # nothing writable below: no trace in the upper layer
    return found


def _writable_by_caller(st: os.stat_result) -> bool:
    return bool(st.st_mode & 0o002) or st.st_uid == os.geteuid()


def _subdirs(path: str):
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield entry, entry.stat(follow_symlinks=False)
        except OSError:
            continue
