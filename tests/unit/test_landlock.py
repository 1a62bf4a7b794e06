"""The Landlock layer of the FFI (sentry/ffi.py): the application is kept to the files
beneath its view's root (sentry/init.py _confine_to_view). Run in a forked child: a
Landlock domain cannot be left."""

from __future__ import annotations

import errno
import os

from sentry import ffi


def _in_child(work) -> dict:
    """`work()`'s dict of results, from a forked child, through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            os.write(w, repr(work()).encode())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            os.write(w, repr({"raised": repr(exc)}).encode())
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as got:
        text = got.read().decode()
    os.waitpid(pid, 0)
    return eval(text)  # noqa: S307 - our own child's repr of a dict of str and int


def _errno_of(f) -> str:
    try:
        f()
        return "ok"
    except OSError as exc:
        return errno.errorcode[exc.errno]


def test_landlock_abi_is_there():
    # CI's machine kind has it (lsm=...,landlock,...); without it the layer is missing
    assert ffi.landlock_abi() >= 1
    assert ffi.LANDLOCK_ACCESS_FS[1] == (1 << 13) - 1   # execute .. make_sym


def test_landlock_confines_to_files_beneath(tmp_path):
    inside = tmp_path / "view"
    (inside / "d").mkdir(parents=True)
    (inside / "d" / "f").write_text("in")
    outside = tmp_path / "host"
    outside.write_text("host")
    held = os.open(outside, os.O_RDONLY)

    def work():
        ffi.prctl(ffi.PR_SET_NO_NEW_PRIVS, 1)
        root = os.open(inside, os.O_PATH | os.O_DIRECTORY)
        ffi.landlock_confine_beneath([root], ffi.landlock_abi())
        r, w = os.pipe()
        os.write(w, b"p")
        memfd = os.memfd_create("m", 0)
        return {
            "inside": _errno_of(lambda: open(inside / "d" / "f").read()),
            "create_inside": _errno_of(lambda: open(inside / "new", "w").close()),
            "outside": _errno_of(lambda: open(outside).read()),
            "reopen_held": _errno_of(lambda: os.open(f"/proc/self/fd/{held}", os.O_RDWR)),
            "read_held": os.pread(held, 4, 0).decode(),
            "reopen_pipe": _errno_of(lambda: os.open(f"/proc/self/fd/{r}", os.O_RDONLY)),
            "reopen_memfd": _errno_of(lambda: os.open(f"/proc/self/fd/{memfd}", os.O_RDWR)),
        }

    try:
        got = _in_child(work)
    finally:
        os.close(held)
    assert got == {"inside": "ok", "create_inside": "ok", "outside": "EACCES",
                   "reopen_held": "EACCES", "read_held": "host", "reopen_pipe": "ok",
                   "reopen_memfd": "ok"}, got
    assert outside.read_text() == "host"


def test_fs_type_of_an_mqueue_mount():
    assert ffi.fs_type("/proc") == 0x9FA0   # PROC_SUPER_MAGIC
    assert ffi.fs_type("/nonexistent") == 0
    assert ffi.MQUEUE_MAGIC == 0x19800202
