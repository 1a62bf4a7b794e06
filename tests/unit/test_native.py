"""The native helper (sentry/native.c) and its ctypes fallback: both must give the
same answers, faults included, since either may serve a sandbox."""

import ctypes
import errno
import mmap
import os

import pytest

from sentry import ffi

PID = os.getpid()

IMPLS = {
    "native": (ffi._vm_read_native, ffi._vm_cstring_native, ffi._vm_write_native),
    "ctypes": (ffi._vm_read_ctypes, ffi._vm_cstring_ctypes, ffi._vm_write_ctypes),
}


def test_native_helper_is_built():
    # setup/install.sh builds it (setup.py, cffi API mode); a silent fallback to ctypes
    # would cost every trapped path syscall several microseconds
    assert ffi.NATIVE_ERROR == ""
    assert ffi.vm_read is ffi._vm_read_native


@pytest.fixture
def guarded_page():
    """A readable page followed by a PROT_NONE one: (address of the first, the map)."""
    m = mmap.mmap(-1, 2 * mmap.PAGESIZE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(base + mmap.PAGESIZE, mmap.PAGESIZE, 0) == 0
    yield base, m
    libc.mprotect(base + mmap.PAGESIZE, mmap.PAGESIZE, 3)
    del base
    m.close()


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_read_round_trip(impl):
    vm_read, _cstring, vm_write = IMPLS[impl]
    buf = ctypes.create_string_buffer(b"0123456789", 10)
    assert vm_read(PID, ctypes.addressof(buf), 10) == b"0123456789"
    assert vm_write(PID, ctypes.addressof(buf) + 2, b"ab") == 2
    assert buf.raw == b"01ab456789"


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_read_larger_than_a_path(impl):
    vm_read, _cstring, _write = IMPLS[impl]
    data = os.urandom(3 * ffi.PATH_MAX)
    buf = ctypes.create_string_buffer(data, len(data))
    assert vm_read(PID, ctypes.addressof(buf), len(data)) == data


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_read_protected_page_faults(impl, guarded_page):
    vm_read, _cstring, vm_write = IMPLS[impl]
    base, _m = guarded_page
    with pytest.raises(OSError) as exc:
        vm_read(PID, base + mmap.PAGESIZE, 16)
    assert exc.value.errno == errno.EFAULT
    with pytest.raises(OSError) as exc:
        vm_write(PID, base + mmap.PAGESIZE, b"x")
    assert exc.value.errno == errno.EFAULT


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_cstring_ends_before_protected_page(impl, guarded_page):
    _read, vm_cstring, _write = IMPLS[impl]
    base, m = guarded_page
    text = b"/etc/" + b"x" * 300          # longer than the first, short chunk
    start = mmap.PAGESIZE - len(text) - 1  # the NUL is the page's last byte
    m[start:start + len(text) + 1] = text + b"\0"
    assert vm_cstring(PID, base + start, ffi.PATH_MAX) == text


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_cstring_running_into_protected_page_faults(impl, guarded_page):
    _read, vm_cstring, _write = IMPLS[impl]
    base, m = guarded_page
    m[mmap.PAGESIZE - 8:mmap.PAGESIZE] = b"no-nul.."
    with pytest.raises(OSError) as exc:
        vm_cstring(PID, base + mmap.PAGESIZE - 8, ffi.PATH_MAX)
    assert exc.value.errno == errno.EFAULT


@pytest.mark.parametrize("impl", IMPLS)
def test_vm_cstring_null_pointer_faults(impl):
    _read, vm_cstring, _write = IMPLS[impl]
    with pytest.raises(OSError) as exc:
        vm_cstring(PID, 0, ffi.PATH_MAX)
    assert exc.value.errno == errno.EFAULT


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("length,expected", [(ffi.PATH_MAX - 1, None),
                                             (ffi.PATH_MAX, errno.ENAMETOOLONG),
                                             (3 * ffi.PATH_MAX, errno.ENAMETOOLONG)])
def test_vm_cstring_limit_is_path_max(impl, length, expected):
    # the kernel's getname: a name of PATH_MAX bytes without its NUL is ENAMETOOLONG
    _read, vm_cstring, _write = IMPLS[impl]
    buf = ctypes.create_string_buffer(b"a" * length)
    if expected is None:
        assert vm_cstring(PID, ctypes.addressof(buf), ffi.PATH_MAX) == b"a" * length
    else:
        with pytest.raises(OSError) as exc:
            vm_cstring(PID, ctypes.addressof(buf), ffi.PATH_MAX)
        assert exc.value.errno == expected


@pytest.mark.parametrize("native", [True, False], ids=["native", "ctypes"])
def test_openat2_and_fstatat_agree_with_os(native, tmp_path, monkeypatch):
    if not native:
        monkeypatch.setattr(ffi, "_native", None)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"x" * 5)
    root = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    try:
        fd = ffi.openat2(root, b"d", os.O_PATH | os.O_DIRECTORY, 0, ffi.RESOLVE_BENEATH)
        buf = ctypes.create_string_buffer(ffi.STAT_SIZE)
        ffi.fstatat_name_raw(fd, b"f", buf, ffi.AT_SYMLINK_NOFOLLOW)
        os.close(fd)
        st = os.stat(tmp_path / "d" / "f")
        assert int.from_bytes(buf.raw[8:16], "little") == st.st_ino
        assert int.from_bytes(buf.raw[48:56], "little") == 5
        with pytest.raises(OSError) as exc:  # the kernel refuses the escape, not us
            ffi.openat2(root, b"d/../..", os.O_PATH, 0, ffi.RESOLVE_BENEATH)
        assert exc.value.errno == errno.EXDEV
        with pytest.raises(OSError) as exc:
            ffi.fstatat_name_raw(root, b"missing", buf, 0)
        assert exc.value.errno == errno.ENOENT
    finally:
        os.close(root)


@pytest.mark.parametrize("fstatat_bytes", [ffi._fstatat_bytes_native,
                                           ffi._fstatat_bytes_ctypes], ids=["native", "ctypes"])
def test_fstatat_bytes_agrees_with_os(fstatat_bytes, tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 5)
    (tmp_path / "l").symlink_to("f")
    root = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    try:
        raw = fstatat_bytes(root, b"f", ffi.AT_SYMLINK_NOFOLLOW)
        link = fstatat_bytes(root, b"l", ffi.AT_SYMLINK_NOFOLLOW)
        with pytest.raises(OSError) as exc:
            fstatat_bytes(root, b"missing", 0)
    finally:
        os.close(root)
    assert exc.value.errno == errno.ENOENT
    st = os.stat(tmp_path / "f")
    assert len(raw) == ffi.STAT_SIZE
    assert int.from_bytes(raw[8:16], "little") == st.st_ino
    assert int.from_bytes(raw[ffi.ST_MODE_OFF:ffi.ST_MODE_OFF + 4], "little") == st.st_mode
    assert int.from_bytes(raw[48:56], "little") == 5
    assert int.from_bytes(link[8:16], "little") == os.lstat(tmp_path / "l").st_ino
