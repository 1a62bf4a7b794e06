"""gofer.server.DirCache: the walk it saves, what it holds, and that resolution with it
stays the kernel's through any sequence of mkdir, rename, rmdir and symlink made
through the gofer (random sequences, against openat2(RESOLVE_IN_ROOT) on the host)."""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from gofer import protocol as p
from gofer.server import _NO_DIR_CACHE, DirCache, Gofer
from sentry import ffi
from tests.conftest import open_fds
from tests.vfs.test_resolution import FakeTask, _clear, _kernel, _ours
from sentry.vfs import VFS

ROOT = p.Creds()
USER = p.Creds(1000, 1000, ())
RENAME_EXCHANGE = 2   # linux/fs.h


class LocalClient:
    """The gofer's handlers called in-process, as --file-access direct does."""

    def __init__(self, server: Gofer):
        self.server = server

    def call(self, msg):
        return self.server.dispatch(msg)

    def stat_cached(self, creds, path):
        return self.server.stat_cached(creds, path)


@pytest.fixture
def cached(tmp_path):
    root_fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    server = Gofer(None, root_fd)
    server.cache_dirs()
    yield tmp_path, server
    server.become(ROOT)
    server.dir_cache.clear()
    os.close(root_fd)


def test_stat_walk_is_served_from_cache_for_root(cached):
    tmp, server = cached
    (tmp / "a" / "b").mkdir(parents=True)
    (tmp / "a" / "b" / "f").write_text("x")
    resp, _ = server.dispatch(p.Stat(ROOT, (b"a", b"b", b"f"), 1))
    assert isinstance(resp, p.RData)
    assert (b"a", b"b") in server.dir_cache.fds
    held = len(open_fds())
    for _ in range(20):
        resp, _ = server.dispatch(p.Stat(ROOT, (b"a", b"b", b"f"), 1))
        assert isinstance(resp, p.RData)
    assert len(open_fds()) == held
    assert list(server.dir_cache.fds) == [(b"a", b"b")]


def test_stat_walk_of_another_user_is_not_cached(cached):
    tmp, server = cached
    (tmp / "a" / "b").mkdir(parents=True, mode=0o755)
    (tmp / "a" / "b" / "f").write_text("x")
    os.chmod(tmp, 0o755)
    resp, _ = server.dispatch(p.Stat(USER, (b"a", b"b", b"f"), 1))
    assert isinstance(resp, p.RData)
    assert not server.dir_cache.fds
    server.dispatch(p.Stat(ROOT, (b"a", b"b", b"f"), 1))
    os.chmod(tmp / "a", 0o700)
    resp, _ = server.dispatch(p.Stat(USER, (b"a", b"b", b"f"), 1))
    assert resp == p.RError(errno.EACCES)


def test_stat_fast_path_answers_from_a_cached_parent_only(cached):
    tmp, server = cached
    (tmp / "a" / "b").mkdir(parents=True)
    (tmp / "a" / "b" / "f").write_text("x")
    (tmp / "a" / "b" / "l").symlink_to("f")
    (tmp / "top").write_text("y")
    vfs = VFS(LocalClient(server), proc=(b"proc",), hidden=["a/b/hidden"])
    (tmp / "a" / "b" / "hidden").write_text("z")
    (tmp / "proc" / "self").mkdir(parents=True)   # a directory, here: cached like any
    (tmp / "proc" / "self" / "x").write_text("p")
    server.dispatch(p.Stat(ROOT, (b"proc", b"self", b"x"), 1))
    assert vfs.stat_simple(b"/a/b/f", True, ROOT) is None   # a/b not walked yet
    server.dispatch(p.Stat(ROOT, (b"a", b"b", b"f"), 1))
    raw = vfs.stat_simple(b"/a/b/f", True, ROOT)
    want = os.stat(tmp / "a" / "b" / "f")
    assert raw is not None and len(raw) == ffi.STAT_SIZE
    assert int.from_bytes(raw[8:16], "little") == want.st_ino
    assert int.from_bytes(raw[ffi.ST_MODE_OFF:ffi.ST_MODE_OFF + 4], "little") == want.st_mode
    assert vfs.stat_simple(b"//a//b/f", True, ROOT) == raw
    assert vfs.stat_simple(b"/top", False, ROOT)[8:16] == \
        os.stat(tmp / "top").st_ino.to_bytes(8, "little")   # the root is always at hand
    # a symlink: not followed here (resolve follows it), its own stat when not to follow
    assert vfs.stat_simple(b"/a/b/l", True, ROOT) is None
    assert vfs.stat_simple(b"/a/b/l", False, ROOT)[8:16] == \
        os.lstat(tmp / "a" / "b" / "l").st_ino.to_bytes(8, "little")
    # what resolve() decides: dots, a trailing slash, relative paths, /proc, hidden paths
    # (every parent here is cached: only the exclusion can answer None)
    for path in (b"/a/b/.", b"/a/b/..", b"/..", b"/.", b"/a/b/f/", b"a/b/f", b"/proc/self/x",
                 b"/a/b/hidden", b"/a/b/" + b"n" * 256):
        assert vfs.stat_simple(path, True, ROOT) is None, path
    # the server takes nothing but one name, whoever asks
    for path in ((b"..",), (b"a", b"b", b".."), (b"a", b"b", b"."), (b"a", b"b/f"),
                 (b"a", b"b", b"")):
        assert server.stat_cached(ROOT, path) is None, path
    assert server.stat_cached(ROOT, (b"a", b"b", b"f")) == raw
    # another caller's walk is not the cache's; an error is answered by resolve()
    assert vfs.stat_simple(b"/a/b/f", True, USER) is None
    assert vfs.stat_simple(b"/a/b/missing", True, ROOT) is None
    assert VFS(object()).stat_simple(b"/a/b/f", True, ROOT) is None   # no fast path


def test_cache_holds_at_most_its_limit(cached):
    tmp, server = cached
    for i in range(DirCache.LIMIT + 40):
        (tmp / f"d{i}").mkdir()
    before = len(open_fds())
    for i in range(DirCache.LIMIT + 40):
        resp, _ = server.dispatch(p.Stat(ROOT, (f"d{i}".encode(), b"missing"), 1))
        assert resp == p.RError(errno.ENOENT)
    # the last request's walk stays until the next request trims
    assert len(server.dir_cache.fds) == DirCache.LIMIT + 1
    server.dispatch(p.Stat(ROOT, (b"d0", b"missing"), 1))
    assert len(server.dir_cache.fds) == DirCache.LIMIT + 1   # d0 again, then trimmed
    assert len(server.dir_cache.held) == DirCache.LIMIT + 1
    assert len(open_fds()) == before + DirCache.LIMIT + 1
    assert (b"d1",) not in server.dir_cache.fds   # the oldest went first
    server.dir_cache.clear()
    assert len(open_fds()) == before


def test_rename_with_the_cache_full_keeps_the_parents_it_holds(cached):
    """A rename holds two parents at once: walking the second must not close the first
    (the oldest entry), however full the cache is."""
    tmp, server = cached
    (tmp / "src").mkdir()
    (tmp / "src" / "f").write_text("x")
    (tmp / "dst").mkdir()
    server.dispatch(p.Stat(ROOT, (b"src", b"f"), 1))     # src: the oldest entry
    for i in range(DirCache.LIMIT - 1):
        (tmp / f"d{i}").mkdir()
        server.dispatch(p.Stat(ROOT, (f"d{i}".encode(), b"x"), 1))
    assert next(iter(server.dir_cache.fds)) == (b"src",)
    before = len(open_fds())
    resp, _ = server.dispatch(p.Rename(ROOT, (b"src", b"f"), (b"dst", b"f"), 0))
    assert resp == p.ROk()
    assert (tmp / "dst" / "f").read_text() == "x"
    server.dispatch(p.Stat(ROOT, (b"dst", b"f"), 1))
    assert len(server.dir_cache.fds) == DirCache.LIMIT
    assert len(open_fds()) == before   # dst added, src closed: nothing closed twice


def test_walk_across_a_mount_is_not_cached(tmp_path, tmp_path_factory):
    """RESOLVE_NO_XDEV: a directory reached through a mount point is walked every time."""
    tmp = tmp_path
    (tmp / "m").mkdir()
    source = tmp_path_factory.mktemp("mounted")
    (source / "d").mkdir()
    pid = os.fork()
    if pid == 0:   # a private mount namespace: nothing is left mounted on the host
        try:
            ffi.unshare(ffi.CLONE_NEWNS)
            ffi.mount(None, "/", None, ffi.MS_REC | ffi.MS_PRIVATE)
            ffi.mount(str(source), str(tmp / "m"), None, ffi.MS_BIND)
            # a root opened in this namespace: the fixture's walks the old one's mounts
            server = Gofer(None, os.open(tmp, os.O_PATH | os.O_DIRECTORY))
            server.cache_dirs()
            resp, _ = server.dispatch(p.Stat(ROOT, (b"m", b"d", b"x"), 1))
            first = resp == p.RError(errno.ENOENT)
            server.dispatch(p.Stat(ROOT, (b"m", b"d", b"x"), 1))
            ok = first and (b"m", b"d") not in server.dir_cache.fds \
                and (b"m", b"d") in server.dir_cache.crossing
            os._exit(0 if ok else 1)
        except BaseException:  # noqa: BLE001 - reported by the exit status
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_rename_forgets_both_paths_and_below(cached):
    tmp, server = cached
    for d in ("a/b/c", "x/y", "k"):
        (tmp / d).mkdir(parents=True)
    for path in ((b"a", b"b", b"c", b"f"), (b"x", b"y", b"f"), (b"k", b"f")):
        server.dispatch(p.Stat(ROOT, path, 1))
    assert set(server.dir_cache.fds) == {(b"a", b"b", b"c"), (b"x", b"y"), (b"k",)}
    resp, _ = server.dispatch(p.Rename(ROOT, (b"a", b"b"), (b"x", b"z"), 0))
    assert resp == p.ROk()
    # a/b/c went; a and x are the rename's own walks; x/y was not under either path
    assert set(server.dir_cache.fds) == {(b"a",), (b"x",), (b"x", b"y"), (b"k",)}


# few names, so that paths meet: a directory cached, renamed away and made again. The
# tree starts with every directory of up to two of a, b, c; d is never there at first.
FEW = ["a", "b", "c", "d"]
START = ["/".join(p) for n in (1, 2) for p in itertools.product(FEW[:3], repeat=n)]
path_of = st.lists(st.sampled_from(FEW), min_size=1, max_size=3)
op = st.one_of(
    st.tuples(st.just("mkdir"), path_of),
    st.tuples(st.just("rmdir"), path_of),
    st.tuples(st.just("rename"), path_of, path_of, st.sampled_from([0, RENAME_EXCHANGE])),
    st.tuples(st.just("rename"), path_of, path_of, st.just(0)),
    st.tuples(st.just("symlink"), path_of, st.sampled_from(["a", "../b", "/a/b", "c/"])),
    st.tuples(st.just("query"), st.lists(st.sampled_from(FEW + [".."]), min_size=1,
                                         max_size=4), st.booleans()),
)
EVERY_PATH = ["/".join(p) for n in (1, 2, 3) for p in itertools.product(FEW, repeat=n)]


class Twin:
    """A scratch tree served by a gofer, with or without the cache."""

    def __init__(self, cache: bool):
        self.scratch = tempfile.mkdtemp(prefix="dircache-")
        self.root_fd = os.open(self.scratch, os.O_PATH | os.O_DIRECTORY)
        self.server = Gofer(None, self.root_fd)
        if cache:
            self.server.cache_dirs()
        self.vfs = VFS(LocalClient(self.server), proc=(b"no-proc-here",))
        self.fast_answers = self.fast_below = 0

    def reset(self) -> None:
        _clear(self.scratch)
        for path in START:
            os.mkdir(os.path.join(self.scratch, path))
        self.server.dir_cache.clear()   # the tree was rebuilt behind the server's back
        self.fast_answers = self.fast_below = 0

    def query(self, path: str, follow: bool):
        ours = _ours(self.vfs, path, follow)
        assert ours == _kernel(self.root_fd, path, follow), (path, follow)
        self.check_stat(path, follow)
        return ours if isinstance(ours, str) else "found"

    def check_stat(self, path: str, follow: bool) -> None:
        """stat's fast path (VFS.stat_simple), where it answers, answers what resolve()
        with a Stat request does, and names what the kernel finds there; without the
        cache it never answers."""
        absolute = b"/" + path.encode()
        fast = self.vfs.stat_simple(absolute, follow, ROOT)
        if fast is None:
            return
        assert self.server.dir_cache is not _NO_DIR_CACHE, path
        self.fast_answers += 1
        self.fast_below += path.count("/") > 0
        found = self.vfs.resolve(FakeTask(), ffi.AT_FDCWD, absolute, follow,
                                 lambda comps, _n, trailing:
                                 p.Stat(ROOT, comps, int(follow or trailing)))
        assert found.resp == p.RData(fast), (path, follow)
        dev_ino = (int.from_bytes(fast[0:8], "little"), int.from_bytes(fast[8:16], "little"))
        assert dev_ino == _kernel(self.root_fd, path, follow), (path, follow)

    def close(self) -> None:
        self.server.dir_cache.clear()
        os.close(self.root_fd)
        shutil.rmtree(self.scratch)


@pytest.fixture(scope="module")
def twins():
    pair = Twin(cache=True), Twin(cache=False)
    yield pair
    for twin in pair:
        twin.close()


def _request(kind: str, rest: list):
    comps = tuple(n.encode() for n in rest[0])
    if kind == "mkdir":
        return p.Mkdir(ROOT, comps, 0o755)
    if kind == "rmdir":
        return p.Unlink(ROOT, comps, 1)
    if kind == "rename":
        return p.Rename(ROOT, comps, tuple(n.encode() for n in rest[1]), rest[2])
    return p.Symlink(ROOT, comps, rest[1].encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=20))
@example(ops=[("query", ["a", "b", "a"], True), ("rmdir", ["a", "b"]), ("mkdir", ["a", "b"])])
@example(ops=[("query", ["a", ".."], True), ("query", ["..", "a"], False)])
@example(ops=[("query", ["a", "b", "a"], True), ("rename", ["a"], ["d"], 0),
              ("mkdir", ["a"]), ("mkdir", ["a", "b"])])
def test_cached_resolution_follows_changes_made_through_the_gofer(twins, ops):
    """The same operations on twin trees, one served with the cache and one without:
    every answer is the same, and every path resolves as the kernel resolves it."""
    cached, plain = twins
    for twin in twins:
        twin.reset()
    for kind, *rest in ops:
        if kind == "query":
            path, follow = "/".join(rest[0]), rest[1]
            assert cached.query(path, follow) == plain.query(path, follow), (path, ops)
        else:
            req = _request(kind, rest)
            assert cached.server.dispatch(req) == plain.server.dispatch(req), (req, ops)
    for path in EVERY_PATH:
        for follow in (False, True):
            assert cached.query(path, follow) == plain.query(path, follow), (path, ops)
    # and a directory made at every path lands where it does without the cache (a
    # stale directory would take it, or refuse it if it was removed)
    for path in EVERY_PATH:
        req = _request("mkdir", [path.split("/")])
        assert cached.server.dispatch(req) == plain.server.dispatch(req), (req, ops)
    for path in EVERY_PATH:
        assert cached.query(path, False) == plain.query(path, False), (path, ops)
    assert cached.fast_answers and not plain.fast_answers
    # and from a cached parent below the root, wherever a directory there holds a name
    # (the queries above walked to it)
    tops = [os.path.join(cached.scratch, name) for name in FEW]
    if any(os.path.isdir(top) and not os.path.islink(top) and os.listdir(top) for top in tops):
        assert cached.fast_below, ops
