"""Gofer.link_fd: a name for the object behind a descriptor (linkat of an O_TMPFILE
file, of /proc/self/fd/N followed, or with AT_EMPTY_PATH), which travels beside the
LinkFd request as SCM_RIGHTS."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from gofer import protocol as p
from gofer.server import Gofer
from sentry import ffi
from tests.conftest import open_fds

ROOT = p.Creds()
USER = p.Creds(1000, 1000, ())
EPROTO = (p.encode(p.RError(errno.EPROTO)), -1)


@pytest.fixture
def gofer(tmp_path):
    """root (0755) / locked (0700) / open (0777); root/pub (0777)."""
    os.chmod(tmp_path, 0o755)
    (tmp_path / "locked" / "open").mkdir(parents=True)
    os.chmod(tmp_path / "locked", 0o700)
    os.chmod(tmp_path / "locked" / "open", 0o777)
    (tmp_path / "pub").mkdir()
    os.chmod(tmp_path / "pub", 0o777)
    root_fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    server = Gofer(None, root_fd, proc_fd_dir="/proc/self/fd/")
    fds = [root_fd]

    def tmpfile(where: str = "", owner: int = 0, flags: int = 0) -> int:
        server.become(ROOT)
        fd = os.open(tmp_path / where, os.O_TMPFILE | os.O_RDWR | flags, 0o600)
        os.write(fd, b"anon")
        os.fchown(fd, owner, owner)
        fds.append(fd)
        return fd

    yield tmp_path, server, tmpfile
    server.become(ROOT)
    for fd in fds:
        os.close(fd)


def _link(path: tuple[bytes, ...], creds: p.Creds = ROOT) -> bytes:
    return p.encode(p.LinkFd(creds, path, -1))


def test_link_fd_descriptor_is_not_in_the_bytes():
    msg = p.LinkFd(ROOT, (b"a",), 7)
    assert p.encode(msg) == p.encode(msg._replace(fd=-1))
    assert p.decode(p.encode(msg)) == msg._replace(fd=-1)
    assert p.LinkFd.FD_FIELDS == ("fd",) and p.Stat.FD_FIELDS == ()


def test_link_fd_names_an_o_tmpfile_file(gofer):
    tmp, server, tmpfile = gofer
    fd = tmpfile()
    assert server.handle(_link((b"pub", b"named")), [fd]) == (p.encode(p.ROk()), -1)
    assert (tmp / "pub" / "named").read_bytes() == b"anon"
    assert os.fstat(fd).st_nlink == 1
    # a name that exists, a parent that does not
    assert server.handle(_link((b"pub", b"named")), [fd]) == \
        (p.encode(p.RError(errno.EEXIST)), -1)
    assert server.handle(_link((b"nodir", b"x")), [fd]) == \
        (p.encode(p.RError(errno.ENOENT)), -1)


def test_link_fd_refuses_what_linkat_refuses(gofer):
    tmp, server, tmpfile = gofer
    excl = tmpfile(flags=os.O_EXCL)           # O_TMPFILE | O_EXCL: never linkable
    assert server.handle(_link((b"pub", b"x")), [excl]) == \
        (p.encode(p.RError(errno.ENOENT)), -1)
    here = os.open(tmp / "pub", os.O_PATH | os.O_DIRECTORY)
    try:
        assert server.handle(_link((b"pub", b"d")), [here]) == \
            (p.encode(p.RError(errno.EPERM)), -1)
    finally:
        os.close(here)
    assert sorted(os.listdir(tmp / "pub")) == []


def test_link_fd_acts_with_the_callers_credentials(gofer):
    tmp, server, tmpfile = gofer
    roots = tmpfile()
    # the parent: uid 1000 may not write the root's 0755 directory
    assert server.handle(_link((b"x",), USER), [tmpfile(owner=1000)]) == \
        (p.encode(p.RError(errno.EACCES)), -1)
    # protected_hardlinks: not its file, and it can neither read nor write it
    assert server.handle(_link((b"pub", b"x"), USER), [roots]) == \
        (p.encode(p.RError(errno.EPERM)), -1)
    assert server.handle(_link((b"pub", b"mine"), USER), [tmpfile(owner=1000)]) == \
        (p.encode(p.ROk()), -1)
    server.become(ROOT)
    assert sorted(os.listdir(tmp / "pub")) == ["mine"]


def test_link_fd_message_carries_exactly_one_descriptor(gofer):
    _tmp, server, tmpfile = gofer
    fd = tmpfile()
    assert server.handle(_link((b"pub", b"x")), []) == EPROTO
    assert server.handle(_link((b"pub", b"x")), [fd, fd]) == EPROTO
    assert server.handle(_link((b"pub", b"x")), [fd], sent=2) == EPROTO   # more than fit
    assert not os.listdir(_tmp / "pub")


def test_link_fd_from_a_base_takes_its_own_descriptor_first(gofer):
    """Relative to the caller's cwd below a directory it cannot search (AtBase): the
    object's descriptor, then the base's."""
    tmp, server, tmpfile = gofer
    obj = tmpfile(owner=1000)
    inner = _link((b"locked", b"open", b"t"), USER)
    assert server.handle(inner, [obj]) == (p.encode(p.RError(errno.EACCES)), -1)
    server.become(ROOT)   # the sentry opens it through /proc/TID, on its own account
    base = os.open(tmp / "locked" / "open", os.O_PATH | os.O_DIRECTORY)
    try:
        wrapped = p.encode(p.AtBase(2, 0, inner))
        assert server.handle(wrapped, [obj]) == EPROTO
        assert server.handle(wrapped, [obj, base]) == (p.encode(p.ROk()), -1)
    finally:
        os.close(base)
    server.become(ROOT)
    assert (tmp / "locked" / "open" / "t").read_bytes() == b"anon"


def test_link_fd_over_the_channel_closes_what_it_received(gofer):
    tmp, server, tmpfile = gofer
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.sock = theirs
    fd = tmpfile()
    before = len(open_fds())
    ours.sendmsg([_link((b"pub", b"a"))], ffi.rights(fd))
    ours.sendmsg([_link((b"pub", b"b"))], [])                  # none: refused
    ours.sendmsg([_link((b"pub", b"c"))], ffi.rights(fd, fd))  # two: refused
    ours.shutdown(socket.SHUT_WR)
    server.serve()
    answers = [p.decode(ours.recv(1 << 16)) for _ in range(3)]
    assert answers == [p.ROk(), p.RError(errno.EPROTO), p.RError(errno.EPROTO)]
    ours.close()
    theirs.close()
    assert len(open_fds()) == before - 2
    assert sorted(os.listdir(tmp / "pub")) == ["a"]
