"""The sentry's per-task record (sentry/kernel.py Task)."""

import ctypes
import os

from gofer.protocol import Creds
from sentry import kernel
from sentry.kernel import FILE_CAPS, Identity, Task
from tests.conftest import parked_child


def _identity(fsuid: int, cap_eff: int = ~0) -> Identity:
    return Identity(fsuid, fsuid, fsuid, 7, 7, 7, (7, 8), 0o022, cap_eff)


def test_fs_creds_are_built_once_per_identity_and_follow_a_change():
    task = Task(10, 10, 1, 1, _identity(0))
    first = task.fs_creds()
    assert first == Creds(0, 7, (7, 8), 0)
    assert task.fs_creds() is first               # kept while the identity is
    task.identity = _identity(1000)               # setuid: what invalidate_creds reads anew
    assert task.fs_creds() == Creds(1000, 7, (7, 8), 0)
    task.identity = _identity(0, cap_eff=0)       # root that dropped its capabilities
    assert task.fs_creds() == Creds(0, 7, (7, 8), FILE_CAPS)


def _full_parse(pid: int) -> dict[bytes, bytes]:
    with open(f"/proc/{pid}/status", "rb") as f:
        return {k: v.strip() for k, v in (line.split(b":", 1)
                                          for line in f.read().splitlines() if b":" in line)}


def test_status_fields_match_a_full_parse():
    fields = kernel._status(os.getpid())
    full = _full_parse(os.getpid())
    assert set(fields) == {b"Tgid", b"Pid", b"NStgid", b"NSpid", b"Uid", b"Gid", b"Groups",
                           b"Umask", b"CapEff"}
    for key, value in fields.items():
        assert value == full[key], key
    assert kernel._ns_ids(fields)[0] == os.getpid()
    assert kernel._identity(fields).euid == os.geteuid()


def test_status_longer_than_one_read_is_read_whole():
    """5000 supplementary groups make the file ~25 KiB, beyond one read; CapEff comes
    after Groups."""
    groups = list(range(100_000, 105_000))
    with parked_child(lambda: os.setgroups(groups)) as pid:
        fields = kernel._status(pid)
        identity = kernel._identity(fields)
        assert identity.groups == tuple(groups)
        assert identity.cap_eff == int(_full_parse(pid)[b"CapEff"], 16)
        assert os.stat(f"/proc/{pid}/status").st_size == 0   # a seq_file: no size to go by


def test_status_task_name_cannot_forge_a_field():
    """A task names itself (PR_SET_NAME); the kernel escapes its newlines in status."""
    def rename():
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.prctl(15, b"a\nUid:\t4242", 0, 0, 0) == 0   # PR_SET_NAME
    with parked_child(rename) as pid:
        assert kernel._identity(kernel._status(pid)).ruid == os.getuid()
        assert kernel._status(pid)[b"Uid"].split()[0] == str(os.getuid()).encode()
