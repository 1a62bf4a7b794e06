"""openat2's RESOLVE_ flags inside the sandbox give what they give natively."""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from tests.conftest import run_do

SCRIPT = textwrap.dedent("""\
    import ctypes, errno, os, struct, sys, tempfile
    libc = ctypes.CDLL(None, use_errno=True)
    NO_XDEV, NO_MAGICLINKS, NO_SYMLINKS, BENEATH, IN_ROOT = 1, 2, 4, 8, 16
    def openat2(dirfd, path, flags, resolve):
        how = struct.pack("=QQQ", flags, 0, resolve)
        fd = libc.syscall(437, dirfd, path.encode(), how, len(how))
        if fd < 0:
            return errno.errorcode[ctypes.get_errno()]
        kind = "link" if os.path.islink(f"/proc/self/fd/{fd}") and flags & os.O_NOFOLLOW else "ok"
        os.close(fd)
        return kind
    base = tempfile.mkdtemp(dir=sys.argv[1])
    os.makedirs(f"{base}/d/e")
    os.symlink("d", f"{base}/ln")
    os.symlink("/etc", f"{base}/abs")
    dirfd = os.open(base, os.O_PATH | os.O_DIRECTORY)
    own = os.open(f"{base}/d", os.O_RDONLY)
    cases = [
        ("plain", "d/e", os.O_PATH, 0),
        ("symlink in the middle", "ln/e", os.O_PATH, NO_SYMLINKS),
        ("symlink last, followed", "ln", os.O_PATH, NO_SYMLINKS),
        ("symlink last, O_NOFOLLOW", "ln", os.O_PATH | os.O_NOFOLLOW, NO_SYMLINKS),
        ("symlink allowed", "ln/e", os.O_PATH, 0),
        ("magic link", f"/proc/self/fd/{own}/e", os.O_PATH, NO_MAGICLINKS),
        ("magic link allowed", f"/proc/self/fd/{own}/e", os.O_PATH, 0),
        ("magic cwd", "/proc/self/cwd", os.O_PATH, NO_MAGICLINKS),
        ("plain link with no magic links", "ln/e", os.O_PATH, NO_MAGICLINKS),
        ("/proc/self itself", "/proc/self/status", os.O_RDONLY, NO_MAGICLINKS),
        ("beneath, absolute link", "abs/hostname", os.O_PATH, BENEATH),
        ("beneath, dotdot", "d/../../x", os.O_PATH, BENEATH),
        ("in root, absolute link", "abs", os.O_PATH | os.O_NOFOLLOW, IN_ROOT),
    ]
    for name, path, flags, resolve in cases:
        print(f"{name}: {openat2(dirfd, path, flags, resolve)}")
    # as uid 1000 from a directory below ones it cannot search (base: 0700, root's):
    # the dirfd is the root, reached with no search of its ancestors, absolute paths
    # and symlinks included
    os.makedirs(f"{base}/o/d")
    os.chmod(f"{base}/o", 0o777)
    open(f"{base}/o/f", "w").close()
    os.symlink("/f", f"{base}/o/abs")
    os.symlink("/d/../f", f"{base}/o/absdots")
    os.symlink("f", f"{base}/o/rel")
    inner = os.open(f"{base}/o", os.O_PATH | os.O_DIRECTORY)
    os.setgroups([])
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)
    for name, path, resolve in [("uid 1000 in root, absolute", "/f", IN_ROOT),
                                ("uid 1000 in root, absolute link", "abs", IN_ROOT),
                                ("uid 1000 in root, absolute link with dots", "absdots", IN_ROOT),
                                ("uid 1000 in root, relative link", "rel", IN_ROOT),
                                ("uid 1000 in root, above the root", "../../f", IN_ROOT),
                                ("uid 1000 beneath", "d/../f", BENEATH),
                                ("uid 1000 plain", "f", 0)]:
        print(f"{name}: {openat2(inner, path, os.O_PATH, resolve)}")
    """)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "openat2.py"
    path.write_text(SCRIPT)
    return path


def test_openat2_resolve_flags_match_native(script, tmp_path):
    native = subprocess.run(["python3", str(script), str(tmp_path)], capture_output=True,
                            text=True)
    inside = run_do(["--", "python3", str(script), "/tmp"])
    assert native.returncode == 0, native.stderr
    assert "symlink in the middle: ELOOP" in native.stdout      # the cases can tell
    assert "magic link: ELOOP" in native.stdout
    assert "uid 1000 in root, absolute link: ok" in native.stdout
    assert (inside.returncode, inside.stdout) == (0, native.stdout), inside.stderr


def test_openat2_no_xdev_is_refused_not_ignored():
    probe = ("import ctypes, errno, struct; libc = ctypes.CDLL(None, use_errno=True); "
             "how = struct.pack('=QQQ', 0o10000000, 0, 1); "
             "r = libc.syscall(437, -100, b'/tmp', how, 24); "
             "print(r, ctypes.get_errno() == errno.EOPNOTSUPP)")
    res = run_do(["--", "python3", "-c", probe])
    assert (res.returncode, res.stdout) == (0, "-1 True\n"), res.stderr
