"""The sentry's side of the gofer channel (gofer/client.py) against a real gofer in a
forked child: the gofer process follows the CPU the sentry calls from."""

from __future__ import annotations

import os

import pytest

from gofer import protocol as p
from gofer.client import GoferClient

ROOT = p.Creds(0, 0, ())


@pytest.fixture
def gofer(live_gofer):
    """tests/conftest.py's live gofer (its scratch directory holds "f"), with this
    process's own affinity put back afterwards."""
    sock, pid, _scratch = live_gofer
    own = os.sched_getaffinity(0)
    yield sock, pid
    os.sched_setaffinity(0, own)


def _stat_size(client: GoferClient) -> int:
    resp, fd = client.call(p.Stat(ROOT, (b"f",), 1))
    assert fd == -1 and isinstance(resp, p.RData), resp
    return int.from_bytes(resp.data[48:56], "little")   # st_size


def test_gofer_follows_the_cpu_the_sentry_calls_from(gofer):
    sock, pid = gofer
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("following a CPU needs two to move between")
    client = GoferClient(sock, peer=pid)
    for cpu in (cpus[0], cpus[1], cpus[0]):
        os.sched_setaffinity(0, {cpu})
        assert _stat_size(client) == len("inside")
        assert os.sched_getaffinity(pid) == {cpu}


def test_gofer_left_alone_without_a_peer(gofer):
    sock, pid = gofer
    before = os.sched_getaffinity(pid)
    os.sched_setaffinity(0, {min(before)})
    assert _stat_size(GoferClient(sock)) == len("inside")
    assert os.sched_getaffinity(pid) == before


def test_gofer_requests_served_when_the_gofer_cannot_be_moved(gofer):
    sock, _pid = gofer
    gone = os.fork()
    if gone == 0:  # pragma: no cover - the child
        os._exit(0)
    os.waitpid(gone, 0)   # a pid no process has: moving it fails with ESRCH
    client = GoferClient(sock, peer=gone)
    assert [_stat_size(client) for _ in range(3)] == [len("inside")] * 3
    assert client.failed is None
