"""stat's fast path end to end in the sentry: the handler (syscalls/stat.py) through the
direct-access client (gofer.client.DirectClient) to the server's cached directories,
with the caller's memory its own (process_vm_readv/writev on this process)."""

from __future__ import annotations

import ctypes
import errno
import os
import types

import pytest

from gofer import protocol as p
from gofer.client import DirectClient
from sentry import ffi
from sentry.events import Error, Return
from sentry.kernel import Task
from sentry.vfs import VFS
from syscalls import stat as stat_calls

AT_FDCWD = ffi.AT_FDCWD & 0xFFFFFFFF
PID = os.getpid()


class Remote:
    """The gofer process's client, as far as DirectClient consults it."""
    failed = None


@pytest.fixture
def sentry(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_bytes(b"x" * 7)
    (tmp_path / "a" / "b" / "l").symlink_to("f")
    root_fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    client = DirectClient(Remote(), root_fd)
    client.cache_dirs()
    vfs = VFS(client, proc=(b"no-proc-here",))
    asked = []   # (path, whether the fast path answered) for each question

    def spy(creds, comps, fast=vfs._stat_cached):
        raw = fast(creds, comps)
        asked.append((comps, raw is not None))
        return raw

    vfs._stat_cached = spy
    kernel = types.SimpleNamespace(vfs=vfs, gofer=client, still_valid=lambda: True)
    yield tmp_path, kernel, client, asked
    client.as_sentry()
    client.local.dir_cache.clear()
    os.close(root_fd)


def _call(handler, kernel, path: bytes, flags: int, statx_mask: int | None = None):
    """newfstatat(AT_FDCWD, path, buf, flags), or statx(AT_FDCWD, path, flags, mask,
    buf), with the path and the buffer in this process's memory."""
    name = ctypes.create_string_buffer(path)
    out = ctypes.create_string_buffer(ffi.STATX_SIZE)
    task = Task(PID, PID, PID, PID)
    if statx_mask is None:
        args = (AT_FDCWD, ctypes.addressof(name), ctypes.addressof(out), flags, 0, 0)
    else:
        args = (AT_FDCWD, ctypes.addressof(name), flags, statx_mask, ctypes.addressof(out), 0)
    return handler(kernel, task, args), out.raw


def test_stat_fast_path_writes_the_files_stat(sentry):
    tmp, kernel, _client, asked = sentry
    want = os.stat(tmp / "a" / "b" / "f")
    for _ in range(2):   # the first walks and caches a/b, the second is answered fast
        answer, raw = _call(stat_calls.newfstatat, kernel, b"/a/b/f", 0)
        assert answer == Return(0)
        assert int.from_bytes(raw[8:16], "little") == want.st_ino
        assert int.from_bytes(raw[48:56], "little") == 7
    assert asked == [((b"a", b"b", b"f"), False), ((b"a", b"b", b"f"), True)]
    # a symlink followed goes the general way, and still ends at the file
    answer, raw = _call(stat_calls.newfstatat, kernel, b"/a/b/l", 0)
    assert answer == Return(0) and int.from_bytes(raw[8:16], "little") == want.st_ino
    answer, raw = _call(stat_calls.newfstatat, kernel, b"/a/b/l", ffi.AT_SYMLINK_NOFOLLOW)
    assert int.from_bytes(raw[8:16], "little") == os.lstat(tmp / "a" / "b" / "l").st_ino


def test_stat_fast_path_leaves_errors_and_statx_to_the_general_way(sentry):
    _tmp, kernel, _client, asked = sentry
    _call(stat_calls.newfstatat, kernel, b"/a/b/f", 0)
    answer, _raw = _call(stat_calls.newfstatat, kernel, b"/a/b/missing", 0)
    assert answer == Error(errno.ENOENT)
    answer, _raw = _call(stat_calls.newfstatat, kernel, b"/a/b/f/", 0)
    assert answer == Error(errno.ENOTDIR)
    asked.clear()
    answer, raw = _call(stat_calls.statx, kernel, b"/a/b/f", 0, 0x7FF)
    assert answer == Return(0) and asked == []   # statx has no fast path
    assert int.from_bytes(raw[0x28:0x30], "little") == 7   # stx_size


def test_stat_fast_path_answers_eio_once_the_gofer_failed(sentry):
    _tmp, kernel, client, asked = sentry
    assert _call(stat_calls.newfstatat, kernel, b"/a/b/f", 0)[0] == Return(0)
    assert client.stat_cached(p.Creds(), (b"a", b"b", b"f")) is not None
    client.failed = "the gofer is gone"
    assert client.stat_cached(p.Creds(), (b"a", b"b", b"f")) is None
    assert _call(stat_calls.newfstatat, kernel, b"/a/b/f", 0)[0] == Error(errno.EIO)
