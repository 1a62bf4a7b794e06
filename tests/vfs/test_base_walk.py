"""Gofer.dispatch_at: a relative path served from the caller's cwd or dirfd, with no
search permission checked on that directory's ancestors (as Linux), and only where the
descriptor is the directory the path's first names name from the root."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import struct
import tempfile
import threading

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from gofer import protocol as p
from gofer.client import GoferClient
from gofer.server import Gofer
from sentry import ffi
from sentry.events import Error
from sentry.vfs import VFS
from tests.conftest import child_output, open_fds, parked_child

ROOT = p.Creds()
USER = p.Creds(1000, 1000, ())
LOCKED_OPEN = (b"locked", b"open")


@pytest.fixture
def tree(tmp_path):
    """root/locked (0700 root) / open (0777) / f; root/other (0777)."""
    os.chmod(tmp_path, 0o755)
    (tmp_path / "locked" / "open").mkdir(parents=True)
    os.chmod(tmp_path / "locked", 0o700)
    os.chmod(tmp_path / "locked" / "open", 0o777)
    (tmp_path / "locked" / "open" / "f").write_text("x")
    (tmp_path / "locked" / "open" / "rel").symlink_to("f")
    for deep, mode in (("deep", 0o777), ("shut", 0o700)):
        (tmp_path / "locked" / "open" / deep).mkdir()
        os.chmod(tmp_path / "locked" / "open" / deep, mode)
    (tmp_path / "other").mkdir(mode=0o777)
    os.chmod(tmp_path / "other", 0o777)
    root_fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    server = Gofer(None, root_fd)
    fds = []

    def base(rel: str) -> int:
        server.become(ROOT)   # the sentry opens it through /proc/TID, on its own account
        fd = os.open(tmp_path / rel, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fds.append(fd)
        return fd

    yield tmp_path, server, base
    server.become(ROOT)
    for fd in fds + [root_fd]:
        os.close(fd)


def test_base_walk_needs_no_search_on_the_ancestors(tree):
    _tmp, server, base = tree
    req = p.Stat(USER, LOCKED_OPEN + (b"f",), 0)
    assert server.dispatch(req) == (p.RError(errno.EACCES), -1)
    resp, fd = server.dispatch_at(req, ((2, base("locked/open"), 0),))
    assert isinstance(resp, p.RData) and fd == -1
    assert stat.S_ISREG(int.from_bytes(resp.data[24:28], "little"))


def test_base_walk_creates_as_the_caller(tree):
    tmp, server, base = tree
    req = p.WalkOpen(USER, LOCKED_OPEN + (b"new",), 0,
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    resp, fd = server.dispatch_at(req, ((2, base("locked/open"), 0),))
    assert isinstance(resp, p.RFd) and fd >= 0
    os.close(fd)
    server.become(ROOT)
    st = os.stat(tmp / "locked" / "open" / "new")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o640)


def test_base_walk_path_equal_to_the_base_is_the_base_itself(tree):
    _tmp, server, base = tree
    resp, _ = server.dispatch_at(p.Stat(USER, LOCKED_OPEN, 0), ((2, base("locked/open"), 0),))
    assert isinstance(resp, p.RData)
    assert stat.S_ISDIR(int.from_bytes(resp.data[24:28], "little"))
    resp, _ = server.dispatch_at(p.Unlink(USER, LOCKED_OPEN, 1), ((2, base("locked/open"), 0),))
    assert resp == p.RError(errno.EINVAL)                   # rmdir(".") natively


def test_base_walk_goes_up_from_the_descriptor_as_the_caller(tree):
    """'..' steps are taken from the caller's directory with its credentials: from a
    directory it may search they work; from one it may not, they are refused."""
    _tmp, server, base = tree
    req = p.Stat(USER, LOCKED_OPEN + (b"f",), 0)
    resp, _ = server.dispatch_at(req, ((2, base("locked/open/deep"), 1),))
    assert isinstance(resp, p.RData)
    assert server.dispatch_at(req, ((2, base("locked/open/shut"), 1),)) == \
        (p.RError(errno.EACCES), -1)
    # one step too many names another directory than the path's first names
    assert server.dispatch_at(req, ((2, base("locked/open/deep"), 2),)) == \
        (p.RError(errno.EACCES), -1)


def test_base_walk_up_into_a_directory_it_cannot_search_looks_nothing_up_there(tree):
    """stat("..") from locked/open: Linux looks '..' up in open (searchable) and lands
    on locked (0700, root's) without a lookup in it; so does the base walk."""
    _tmp, server, base = tree
    resp, _ = server.dispatch_at(p.Stat(USER, (b"locked",), 0),
                                 ((1, base("locked/open"), 1),))
    assert isinstance(resp, p.RData)
    assert stat.S_IMODE(int.from_bytes(resp.data[24:28], "little")) == 0o700
    # but a name in it is looked up there: refused, as natively
    resp, _ = server.dispatch_at(p.Stat(USER, (b"locked", b"open"), 0),
                                 ((1, base("locked/open"), 1),))
    assert resp == p.RError(errno.EACCES)


def test_search_says_whether_the_caller_may_look_names_up_in_a_directory(tree):
    _tmp, server, base = tree
    assert server.dispatch(p.Search(USER, (b"other",))) == (p.ROk(), -1)
    assert server.dispatch(p.Search(USER, (b"locked",))) == (p.RError(errno.EACCES), -1)
    assert server.dispatch(p.Search(ROOT, (b"locked",))) == (p.ROk(), -1)
    assert server.dispatch(p.Search(ROOT, LOCKED_OPEN + (b"f",))) == \
        (p.RError(errno.ENOTDIR), -1)
    assert server.dispatch(p.Search(ROOT, LOCKED_OPEN + (b"rel",))) == \
        (p.RSymlink(0, 2, b"f"), -1)
    # from a base: the directory itself, whose ancestors are not searched
    assert server.dispatch_at(p.Search(USER, LOCKED_OPEN), ((2, base("locked/open"), 0),)) \
        == (p.ROk(), -1)
    assert server.dispatch_at(p.Search(USER, LOCKED_OPEN + (b"shut",)),
                              ((2, base("locked/open"), 0),)) == (p.RError(errno.EACCES), -1)


def test_base_walk_reports_a_symlink_at_its_index_in_the_whole_path(tree):
    _tmp, server, base = tree
    resp, _ = server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"rel",), 1),
                                 ((2, base("locked/open"), 0),))
    assert resp == p.RSymlink(0, 2, b"f")


def test_base_walk_refuses_a_descriptor_that_is_not_the_named_directory(tree):
    tmp, server, base = tree
    req = p.WalkOpen(USER, LOCKED_OPEN + (b"planted",), 0, os.O_WRONLY | os.O_CREAT, 0o644)
    # the sentry said locked/open, the descriptor is another directory
    assert server.dispatch_at(req, ((2, base("other"), 0),)) == (p.RError(errno.EACCES), -1)
    server.become(ROOT)
    assert not (tmp / "other" / "planted").exists()
    assert not (tmp / "locked" / "open" / "planted").exists()
    # a directory outside the root altogether
    server.become(ROOT)
    outside = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        assert server.dispatch_at(p.Stat(USER, (b"tmp",), 0), ((1, outside, 0),)) == \
            (p.RError(errno.EACCES), -1)
    finally:
        os.close(outside)


def test_base_walk_refuses_a_file_descriptor_as_base(tree):
    tmp, server, _base = tree
    server.become(ROOT)
    fd = os.open(tmp / "locked" / "open" / "f", os.O_PATH | os.O_CLOEXEC)
    try:
        resp, _ = server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"f", b"x"), 0), ((3, fd, 0),))
        assert resp == p.RError(errno.EACCES)
    finally:
        os.close(fd)


@pytest.mark.parametrize("depth", [0, 4])
def test_base_walk_depth_outside_the_path_is_einval(tree, depth):
    _tmp, server, base = tree
    req = p.Stat(USER, LOCKED_OPEN + (b"f",), 0)
    assert server.dispatch_at(req, ((depth, base("locked/open"), 0),)) == \
        (p.RError(errno.EINVAL), -1)


def test_base_walk_request_without_a_path_is_einval(tree):
    _tmp, server, base = tree
    assert server.dispatch_at(p.ShowCgroups(ROOT), ((1, base("other"), 0),)) == \
        (p.RError(errno.EINVAL), -1)


def test_base_walk_keeps_the_base_descriptor_and_leaks_none(tree):
    _tmp, server, base = tree
    fd = base("locked/open")
    deep = base("locked/open/deep")
    held = len(open_fds())
    for _ in range(5):
        server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"f",), 0), ((2, fd, 0),))
        server.dispatch_at(p.Stat(USER, LOCKED_OPEN, 0), ((2, fd, 0),))
        server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"f",), 0), ((2, deep, 1),))
        server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"f",), 0), ((2, deep, 2),))
    os.fstat(fd)                                            # still open: the caller's
    os.fstat(deep)
    assert len(open_fds()) == held


def test_base_walk_up_a_deep_chain_holds_two_descriptors_at_a_time(tree):
    """'..' from a cwd deeper than the descriptors left to open: the walk up keeps only
    where it is and the directory below (found in review: it kept them all, and EMFILE
    came back as EACCES)."""
    import resource
    tmp, server, base = tree
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = max(open_fds()) + 20
    free = limit - len(open_fds())          # holes below the highest count too
    chain = tmp / "locked" / "open" / "deep"
    for _ in range(free + 20):
        chain = chain / "d"
        chain.mkdir()
    fd = base(str(chain.relative_to(tmp)))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        resp, _fd = server.dispatch_at(p.Stat(USER, LOCKED_OPEN + (b"f",), 0),
                                       ((2, fd, free + 21),))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert isinstance(resp, p.RData), resp


def test_at_base_message_carries_exactly_one_descriptor(tree):
    _tmp, server, base = tree
    inner = p.encode(p.Stat(USER, LOCKED_OPEN + (b"f",), 0))
    msg = p.encode(p.AtBase(2, 0, inner))
    assert p.decode(msg) == p.AtBase(2, 0, inner)
    payload, fd = server.handle(msg, [base("locked/open")])
    assert isinstance(p.decode(payload), p.RData) and fd == -1
    assert server.handle(msg, []) == (p.encode(p.RError(errno.EPROTO)), -1)
    two = [base("locked/open"), base("other")]
    assert server.handle(msg, two) == (p.encode(p.RError(errno.EPROTO)), -1)
    assert server.handle(msg, [base("locked/open")], sent=2) == \
        (p.encode(p.RError(errno.EPROTO)), -1)              # more came than fit
    # any other request is served without the descriptors that came with it: from the
    # root, where uid 1000 cannot search locked/
    assert server.handle(inner, [base("other")]) == (p.encode(p.RError(errno.EACCES)), -1)
    assert server.handle(p.encode(p.AtBase(2, 0, b"garbage")), [base("locked/open")]) == \
        (p.encode(p.RError(errno.EPROTO)), -1)


def test_at_base_over_the_channel_closes_what_it_received(tree):
    """Through the serve loop, as --file-access gofer: the descriptor that came with a
    request is closed once it is served."""
    _tmp, server, base = tree
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.sock = theirs
    fd = base("locked/open")
    before = len(open_fds())
    inner = p.encode(p.Stat(USER, LOCKED_OPEN + (b"f",), 0))
    ours.sendmsg([p.encode(p.AtBase(2, 0, inner))], ffi.rights(fd))
    ours.sendmsg([inner], ffi.rights(fd))                  # a stray descriptor
    ours.sendmsg([p.encode(p.AtBase(2, 0, inner))],         # two: one more than fits
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("=ii", fd, fd))])
    ours.shutdown(socket.SHUT_WR)
    server.serve()
    answers = [p.decode(ours.recv(1 << 16)) for _ in range(3)]
    assert isinstance(answers[0], p.RData)
    assert answers[1] == p.RError(errno.EACCES)              # served from the root
    assert answers[2] == p.RError(errno.EPROTO)
    ours.close()
    theirs.close()
    assert len(open_fds()) == before - 2


def test_serve_loop_closes_descriptors_that_came_with_an_empty_message(tree):
    """An empty message ends serving (to a SEQPACKET reader it reads as the end); what
    came with it is closed all the same (found in review)."""
    _tmp, server, base = tree
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.sock = theirs
    fd = base("locked/open")
    before = len(open_fds())
    ours.sendmsg([b""], ffi.rights(fd))
    server.serve()
    ours.close()
    theirs.close()
    assert len(open_fds()) == before - 2


def test_base_walk_renames_and_links_with_a_base_for_each_path(tree):
    tmp, server, base = tree
    fd = base("locked/open")
    moved = p.Rename(USER, LOCKED_OPEN + (b"f",), LOCKED_OPEN + (b"g",), 0)
    assert server.dispatch(moved) == (p.RError(errno.EACCES), -1)
    assert server.dispatch_at(moved, ((2, fd, 0), (2, fd, 0))) == (p.ROk(), -1)
    # one base: the other path is walked from the root (other/ is searchable)
    out = p.Rename(USER, LOCKED_OPEN + (b"g",), (b"other", b"g"), 0)
    assert server.dispatch_at(out, ((2, fd, 0), (0, -1, 0))) == (p.ROk(), -1)
    server.become(ROOT)
    os.chown(tmp / "other" / "g", 1000, 1000)    # protected_hardlinks: links of its own
    linked = p.Link(USER, (b"other", b"g"), LOCKED_OPEN + (b"h",))
    assert server.dispatch_at(linked, ((0, -1, 0), (2, fd, 0))) == (p.ROk(), -1)
    server.become(ROOT)
    assert sorted(os.listdir(tmp / "locked" / "open")) == ["deep", "h", "rel", "shut"]
    assert os.path.samefile(tmp / "other" / "g", tmp / "locked" / "open" / "h")


def test_base_walk_each_path_starts_from_its_own_base_only(tree):
    """renameat(deep_fd, "x", AT_FDCWD, "/locked/open/deep/y"): the new path is
    absolute, so it is walked from the root (through locked/, refused), though the old
    path's base names a directory above it."""
    tmp, server, base = tree
    (tmp / "locked" / "open" / "deep" / "x").write_text("x")
    deep = LOCKED_OPEN + (b"deep",)
    req = p.Rename(USER, deep + (b"x",), deep + (b"y",), 0)
    assert server.dispatch_at(req, ((3, base("locked/open/deep"), 0), (0, -1, 0))) == \
        (p.RError(errno.EACCES), -1)
    assert server.dispatch_at(req, ((3, base("locked/open/deep"), 0),
                                    (3, base("locked/open/deep"), 0))) == (p.ROk(), -1)


def test_base_walk_rename_with_a_wrong_base_moves_nothing(tree):
    tmp, server, base = tree
    req = p.Rename(USER, LOCKED_OPEN + (b"f",), LOCKED_OPEN + (b"g",), 0)
    assert server.dispatch_at(req, ((2, base("locked/open"), 0), (2, base("other"), 0))) \
        == (p.RError(errno.EACCES), -1)
    for bases in (((2, base("locked/open"), 0),),               # one for two paths
                  ((0, -1, 0), (0, -1, 0))):                    # none at all
        assert server.dispatch_at(req, bases) == (p.RError(errno.EINVAL), -1)
    server.become(ROOT)
    assert (tmp / "locked" / "open" / "f").exists()
    assert not (tmp / "locked" / "open" / "g").exists()


def test_at_bases_message_carries_one_descriptor_per_base(tree):
    _tmp, server, base = tree
    inner = p.encode(p.Rename(USER, LOCKED_OPEN + (b"f",), LOCKED_OPEN + (b"g",), 0))
    both = p.encode(p.AtBases(2, 0, 2, 0, inner))
    one = p.encode(p.AtBases(2, 0, 0, 0, inner))
    eproto = (p.encode(p.RError(errno.EPROTO)), -1)
    assert server.handle(both, [base("locked/open")]) == eproto
    assert server.handle(one, [base("locked/open"), base("locked/open")]) == eproto
    assert server.handle(p.encode(p.AtBases(0, 0, 0, 0, inner)), []) == eproto
    assert server.handle(both, [base("locked/open"), base("locked/open")]) == \
        (p.encode(p.ROk()), -1)


# --- the VFS on top, against the kernel: a non-root caller in a chroot --------------

class _Task:
    """A task whose cwd is `cwd` inside the tree: a real process (its /proc/TID/cwd is
    what the VFS opens to start from there), with uid 1000's credentials."""

    def __init__(self, tid: int, cwd: bytes):
        self.tid = self.tgid = self.ns_tid = self.ns_tgid = tid
        self._cwd = cwd

    def cwd(self) -> bytes:
        return self._cwd

    def creds(self):
        from sentry.kernel import Identity
        return Identity(1000, 1000, 1000, 1000, 1000, 1000, (), 0o022)

    def fs_creds(self):
        return self.creds().fs_creds()


def _native_lookups(scratch: str, cwd: str, queries, follow: bool):
    """In a child chrooted to `scratch`, in `cwd`, as uid 1000: each query opened
    O_PATH, as (dev, ino) or the errno's name."""
    def lookups(report) -> None:
        os.chroot(scratch)
        os.chdir(cwd)
        os.setgroups([])
        os.setresgid(1000, 1000, 1000)
        os.setresuid(1000, 1000, 1000)
        out = []
        for q in queries:
            flags = os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
            try:
                fd = os.open(q, flags)
                st_ = os.fstat(fd)
                os.close(fd)
                out.append([st_.st_dev, st_.st_ino])
            except OSError as exc:
                out.append(errno.errorcode[exc.errno])
        report(json.dumps(out).encode())

    status, out = child_output(lookups)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    return [tuple(x) if isinstance(x, list) else x for x in json.loads(out)]


_MODES = st.sampled_from([0o700, 0o711, 0o755, 0o777])
_NAMES = ["a", "b", "c", "l", "L"]
_component = st.sampled_from(_NAMES + [".", ".."])
_names = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3)
_rel = st.lists(_component, min_size=1, max_size=6).map("/".join)
_target = st.builds(lambda absolute, body: ("/" if absolute else "") + body,
                    st.booleans(), _rel)
_entry = st.tuples(_names, st.sampled_from(["dir", "file", "link"]), _MODES, _target)


# up to the sandbox root from a cwd it may search, then into /L (found in review)
@example(entries=[(["a"], "dir", 0o755, "x")], cwd=[("a", 0o777)], queries=["../../L/a"],
         follow=False, top=("D", 0o755))
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(entries=st.lists(_entry, max_size=12),
       cwd=st.lists(st.tuples(st.sampled_from(_NAMES), _MODES), min_size=1, max_size=3),
       queries=st.lists(st.builds(lambda absolute, body: ("/" if absolute else "") + body,
                                  st.booleans(), _rel), min_size=1, max_size=8),
       follow=st.booleans(), top=st.sampled_from([("L", 0o700)]) | st.tuples(st.just("D"), _MODES))
def test_vfs_relative_lookups_as_a_non_root_caller_match_the_kernel(entries, cwd, queries,
                                                                   follow, top):
    """uid 1000 in a cwd under /L, a directory (mode 0700, root's) it cannot search, or
    under /D (of a random mode), on random trees of directories of random modes below it. The VFS over a gofer
    channel (so through AtBase) resolves each query to what the kernel opens for the
    same caller chrooted there, or fails with the same errno: relative and absolute
    paths with '.' and '..', symlinks with any of those as targets; every lookup in a
    directory, dots included, needs search permission on it."""
    scratch = tempfile.mkdtemp(prefix="vfs-base-")
    os.chmod(scratch, 0o755)
    os.mkdir(os.path.join(scratch, "L"), 0o700)
    if top[0] != "L":
        os.mkdir(os.path.join(scratch, top[0]))
        os.chmod(os.path.join(scratch, top[0]), top[1])
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    root_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    server = Gofer(theirs, root_fd)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        here = os.path.join(scratch, top[0])
        for name, mode in cwd:                     # the cwd's chain below L
            here = os.path.join(here, name)
            if not os.path.lexists(here):
                os.mkdir(here)
                os.chmod(here, mode)
        cwd = [top[0]] + [name for name, _mode in cwd]
        for parts, kind, mode, target in entries:
            parent = os.path.join(scratch, "L", *parts[:-1])
            path = os.path.join(parent, parts[-1])
            if not os.path.isdir(parent) or os.path.islink(parent) or os.path.lexists(path):
                continue
            if kind == "dir":
                os.mkdir(path)
                os.chmod(path, mode)
            elif kind == "file":
                with open(path, "w") as f:
                    f.write("x")
            else:
                os.symlink(target, path)
        where = os.path.join(scratch, *cwd)
        sandbox_cwd = "/" + "/".join(cwd)
        expected = _native_lookups(scratch, sandbox_cwd, queries, follow)
        with parked_child(lambda: os.chdir(where)) as pid:
            vfs = VFS(GoferClient(ours), proc=(b"no-proc-here",))
            task = _Task(pid, sandbox_cwd.encode())
            creds = p.Creds(1000, 1000, ())
            got = []
            for q in queries:
                def build(comps, _is_name, trailing):
                    flags = os.O_PATH | (os.O_DIRECTORY if trailing else 0)
                    return p.WalkOpen(creds, comps, int(follow or trailing), flags, 0)
                found = vfs.resolve(task, ffi.AT_FDCWD, q.encode(), follow, build)
                if isinstance(found, Error):
                    got.append(errno.errorcode[found.errno])
                elif isinstance(found.resp, p.RError):
                    got.append(errno.errorcode[found.resp.errno])
                else:
                    st_ = os.fstat(found.fd)
                    os.close(found.fd)
                    got.append((st_.st_dev, st_.st_ino))
        assert got == expected, (entries, cwd, queries, follow, got, expected)
    finally:
        ours.close()
        thread.join(5)
        theirs.close()
        os.close(root_fd)
        shutil.rmtree(scratch)
