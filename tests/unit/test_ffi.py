"""Kernel ABI facts the FFI layer encodes, checked against this kernel."""

import ctypes
import os
import socket
import stat
from pathlib import Path

from sentry import ffi


def test_seccomp_notif_sizes_match_kernel():
    assert ffi.seccomp_get_notif_sizes() == (80, 24, 64)


def test_seccomp_struct_layouts():
    assert ffi.SECCOMP_NOTIF.size == ffi.SECCOMP_NOTIF_SIZE == 80
    assert ffi.SECCOMP_NOTIF_RESP.size == ffi.SECCOMP_NOTIF_RESP_SIZE == 24
    assert ffi.SECCOMP_NOTIF_ADDFD.size == 24
    assert ffi.SOCK_FILTER.size == 8


def _iowr(kind, nr, size):
    # _IOC(dir, '!', nr, size) with dir 3 = read|write, 1 = write
    return (kind << 30) | (size << 16) | (ord("!") << 8) | nr


def test_seccomp_ioctl_numbers():
    assert ffi.SECCOMP_IOCTL_NOTIF_RECV == _iowr(3, 0, 80) == 0xC0502100
    assert ffi.SECCOMP_IOCTL_NOTIF_SEND == _iowr(3, 1, 24) == 0xC0182101
    assert ffi.SECCOMP_IOCTL_NOTIF_ID_VALID == _iowr(1, 2, 8) == 0x40082102
    assert ffi.SECCOMP_IOCTL_NOTIF_ADDFD == _iowr(1, 3, 24) == 0x40182103
    assert ffi.SECCOMP_IOCTL_NOTIF_SET_FLAGS == _iowr(1, 4, 8) == 0x40082104


def test_stat_struct_sizes():
    class Stat(ctypes.Structure):  # x86_64 struct stat
        _fields_ = [("dev", ctypes.c_ulong), ("ino", ctypes.c_ulong), ("nlink", ctypes.c_ulong),
                    ("mode", ctypes.c_uint), ("uid", ctypes.c_uint), ("gid", ctypes.c_uint),
                    ("pad0", ctypes.c_int), ("rdev", ctypes.c_ulong), ("size", ctypes.c_long),
                    ("blksize", ctypes.c_long), ("blocks", ctypes.c_long),
                    ("times", ctypes.c_long * 6), ("unused", ctypes.c_long * 3)]
    assert ctypes.sizeof(Stat) == ffi.STAT_SIZE == 144
    assert Stat.mode.offset == ffi.ST_MODE_OFF == 24
    assert ffi.STATX_SIZE == 256
    assert ffi.STATFS_SIZE == 120


def test_stat_raw_reads_mode_at_offset_24(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    f.chmod(0o640)
    buf = ctypes.create_string_buffer(ffi.STAT_SIZE)
    ffi.stat_raw(str(f).encode(), buf)
    assert int.from_bytes(buf.raw[24:28], "little") & 0o7777 == 0o640
    assert int.from_bytes(buf.raw[48:56], "little") == 1  # st_size


def test_stat_is_link_for_every_file_type(tmp_path):
    (tmp_path / "reg").write_text("x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "lnk").symlink_to("reg")
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    # and a character device; the seven types' S_IFMT values differ in that nibble only
    paths = [tmp_path / n for n in ("reg", "dir", "lnk", "fifo", "sock")] + [Path("/dev/null")]
    try:
        for path in paths:
            raw = ffi.fstatat_bytes(ffi.AT_FDCWD, bytes(path), ffi.AT_SYMLINK_NOFOLLOW)
            assert ffi.stat_is_link(raw) == stat.S_ISLNK(os.lstat(path).st_mode), path
    finally:
        sock.close()
