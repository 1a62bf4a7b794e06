"""The sentry's VFS against the host kernel: on random trees of directories, files and
symlinks, every path resolves to the same object (or the same errno) as
openat2(RESOLVE_IN_ROOT) gives on the same tree."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gofer import protocol as p
from gofer.client import GoferClient
from gofer.server import Gofer
from sentry import ffi
from sentry.events import Error
from sentry.kernel import Identity
from sentry.vfs import VFS

NAMES = ["a", "b", "c", "l1", "l2"]


class FakeTask:
    tid = tgid = ns_tid = ns_tgid = 1

    def __init__(self, cwd: bytes = b"/"):
        self._cwd = cwd

    def cwd(self) -> bytes:
        return self._cwd

    def creds(self) -> Identity:
        return Identity(0, 0, 0, 0, 0, 0, (), 0o022)

    def fs_creds(self):
        return self.creds().fs_creds()


@pytest.fixture(scope="module")
def gofer_pair():
    """A gofer serving a scratch directory from a thread, and a VFS on top of it."""
    scratch = tempfile.mkdtemp(prefix="vfs-")
    root_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = Gofer(theirs, root_fd)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    client = GoferClient(ours)
    yield scratch, VFS(client, proc=(b"no-proc-here",))
    ours.close()
    thread.join(5)
    shutil.rmtree(scratch)


def _clear(scratch: str) -> None:
    for entry in os.listdir(scratch):
        full = os.path.join(scratch, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


component = st.sampled_from(NAMES + [".", ".."])
rel_path = st.lists(component, min_size=1, max_size=5).map("/".join)
link_target = st.builds(lambda absolute, body, slash: ("/" if absolute else "") + body
                        + ("/" if slash else ""),
                        st.booleans(), rel_path, st.booleans())
entry = st.tuples(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3),
                  st.sampled_from(["dir", "file", "link"]), link_target)
query = st.builds(lambda absolute, body, slash: ("/" if absolute else "") + body
                  + ("/" if slash else ""),
                  st.booleans(), rel_path, st.booleans())


def _build_tree(scratch: str, entries) -> None:
    for parts, kind, target in entries:
        parent = os.path.join(scratch, *parts[:-1])
        if not os.path.isdir(parent) or os.path.islink(parent):
            continue
        path = os.path.join(parent, parts[-1])
        if os.path.lexists(path):
            continue
        if kind == "dir":
            os.mkdir(path)
        elif kind == "file":
            with open(path, "w") as f:
                f.write("x")
        else:
            os.symlink(target, path)


def _kernel(root_fd: int, path: str, follow: bool):
    flags = os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = ffi.openat2(root_fd, path, flags, 0, ffi.RESOLVE_IN_ROOT)
    except OSError as exc:
        return errno.errorcode[exc.errno]
    try:
        st_ = os.fstat(fd)
        return (st_.st_dev, st_.st_ino)
    finally:
        os.close(fd)


def _ours(vfs: VFS, path: str, follow: bool):
    creds = p.Creds()

    def build(comps, _is_name, trailing):
        flags = os.O_PATH | (os.O_DIRECTORY if trailing else 0)
        return p.WalkOpen(creds, comps, int(follow or trailing), flags, 0)

    found = vfs.resolve(FakeTask(), ffi.AT_FDCWD, path.encode(), follow, build)
    if isinstance(found, Error):
        return errno.errorcode[found.errno]
    if isinstance(found.resp, p.RError):
        return errno.errorcode[found.resp.errno]
    assert isinstance(found.resp, p.RFd), found.resp
    try:
        st_ = os.fstat(found.fd)
        return (st_.st_dev, st_.st_ino)
    finally:
        os.close(found.fd)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(entries=st.lists(entry, max_size=12), queries=st.lists(query, min_size=1, max_size=8),
       follow=st.booleans())
def test_vfs_resolves_like_openat2_resolve_in_root(gofer_pair, entries, queries, follow):
    scratch, vfs = gofer_pair
    _clear(scratch)
    _build_tree(scratch, entries)
    root_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    try:
        for path in queries:
            assert _ours(vfs, path, follow) == _kernel(root_fd, path, follow), \
                (path, follow, sorted(_listing(scratch), key=str))
    finally:
        os.close(root_fd)


def _listing(scratch: str):
    for dirpath, dirnames, filenames in os.walk(scratch):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, scratch)
            yield (rel, os.readlink(full)) if os.path.islink(full) else rel


@pytest.mark.parametrize("path,expected", [
    ("", "ENOENT"), ("/", "root"), ("..", "root"), ("/../../..", "root"),
    ("d/../d/./f", "f"), ("f/", "ENOTDIR"), ("f/.", "ENOTDIR"), ("missing/..", "ENOENT"),
    ("up", "root"), ("up/up/d/f", "f"), ("abs/f", "f"), ("loop", "ELOOP"),
    ("dangling", "ENOENT"), ("x" * 256, "ENAMETOOLONG"),
])
def test_vfs_resolution_cases(gofer_pair, path, expected):
    scratch, vfs = gofer_pair
    _clear(scratch)
    os.mkdir(os.path.join(scratch, "d"))
    with open(os.path.join(scratch, "d", "f"), "w"):
        pass
    os.symlink("d/f", os.path.join(scratch, "f"))
    os.symlink("..", os.path.join(scratch, "up"))
    os.symlink("/d", os.path.join(scratch, "abs"))
    os.symlink("loop", os.path.join(scratch, "loop"))
    os.symlink("nowhere", os.path.join(scratch, "dangling"))
    got = _ours(vfs, path, True)
    names = {"root": os.stat(scratch), "f": os.stat(os.path.join(scratch, "d", "f"))}
    if expected in names:
        assert got == (names[expected].st_dev, names[expected].st_ino)
    else:
        assert got == expected


def test_vfs_slash_of_a_link_target_ends_with_the_link(gofer_pair):
    """b -> "a/": in b/../b the final b is not followed without follow (its target's
    slash belongs to the first b only), as the kernel resolves it."""
    scratch, vfs = gofer_pair
    _clear(scratch)
    os.mkdir(os.path.join(scratch, "a"))
    os.symlink("a/", os.path.join(scratch, "b"))
    link = os.lstat(os.path.join(scratch, "b"))
    assert _ours(vfs, "b/../b", False) == (link.st_dev, link.st_ino)
    target = os.stat(os.path.join(scratch, "a"))
    assert _ours(vfs, "b/../b", True) == (target.st_dev, target.st_ino)
