"""The sentry's per-task record (sentry/kernel.py Task)."""

from gofer.protocol import Creds
from sentry.kernel import FILE_CAPS, Identity, Task


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
