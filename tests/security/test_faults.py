"""Fault injection: the gofer killed or stopped at random points, malformed and truncated
gofer messages (both directions), the sentry killed mid-syscall, the overlay's disk
filled. Each ends with a clear error, the host untouched and nothing left behind."""

from __future__ import annotations

import array
import errno
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from gofer import protocol as p
from gofer.client import GoferClient
from tests.security.conftest import (alive, comm, descendants, finish, run_sandbox, start_do,
                                     wait_for)

LOOP = ("cat /etc/passwd >/dev/null && echo running; while true; do "
        "cat /etc/passwd >/dev/null || echo failed; ls /bin >/dev/null; done")


def _gofer_of(proc) -> int:
    assert wait_for(lambda: any(comm(q) == "sv-gofer" for q in descendants(proc.pid)))
    return next(q for q in descendants(proc.pid) if comm(q) == "sv-gofer")


def _mounts() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.split(" ", 4)[4] for line in f if "sandvisor" in line}


@pytest.mark.usefixtures("host_guard")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gofer_killed_at_random_point_ends_with_eio(sec_root, seed):
    delay = random.Random(seed).uniform(0.0, 0.6)
    proc = start_do(["--root", str(sec_root), "--timeout", "60", "--", "/bin/sh", "-c", LOOP])
    gofer = _gofer_of(proc)
    time.sleep(delay)
    victims = descendants(proc.pid)
    os.kill(gofer, signal.SIGKILL)
    res = finish(proc, timeout=60)
    assert res.returncode == 125, (res.returncode, res.stderr)
    assert "gofer exited unexpectedly" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert wait_for(lambda: not alive(victims), timeout=10), alive(victims)


@pytest.mark.usefixtures("host_guard")
def test_gofer_killed_before_the_application_starts(sec_root):
    proc = start_do(["--root", str(sec_root), "--timeout", "60", "--", "/bin/sh", "-c", LOOP])
    end = time.monotonic() + 15
    gofer = None
    while gofer is None and time.monotonic() < end:  # busy: as early as it can be seen
        gofer = next((q for q in descendants(proc.pid) if comm(q) == "sv-gofer"), None)
    assert gofer
    os.kill(gofer, signal.SIGKILL)
    victims = descendants(proc.pid)
    res = finish(proc, timeout=60)
    assert res.returncode == 125, (res.returncode, res.stderr)
    assert res.stderr.strip() and "Traceback" not in res.stderr, res.stderr
    assert wait_for(lambda: not alive(victims), timeout=10), alive(victims)


@pytest.mark.usefixtures("host_guard")
def test_gofer_stopped_sandbox_still_times_out(sec_root):
    proc = start_do(["--root", str(sec_root), "--timeout", "3", "--", "/bin/sh", "-c", LOOP])
    gofer = _gofer_of(proc)
    assert proc.stdout.readline() == b"running\n"
    os.kill(gofer, signal.SIGSTOP)
    victims = descendants(proc.pid)
    try:
        res = finish(proc, timeout=60)
    finally:
        for q in alive(victims):
            try:
                os.kill(q, signal.SIGKILL)
            except OSError:
                pass
    assert res.returncode in (124, 125), (res.returncode, res.stderr)
    assert "timed out" in res.stderr or "gofer" in res.stderr, res.stderr
    assert wait_for(lambda: not alive(victims), timeout=10), alive(victims)


@pytest.mark.usefixtures("host_guard")
def test_sentry_killed_mid_syscall_leaves_nothing(sec_root):
    mounts = _mounts()
    proc = start_do(["--root", str(sec_root), "--timeout", "60", "--", "/bin/sh", "-c", LOOP])
    assert proc.stdout.readline() == b"running\n"
    time.sleep(random.uniform(0.05, 0.3))
    victims = descendants(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    assert wait_for(lambda: not alive(victims), timeout=10), alive(victims)
    assert _mounts() == mounts


@pytest.mark.usefixtures("host_guard")
def test_memory_overlay_disk_full_enospc(sec_root):
    res = run_sandbox(sec_root, ["/bin/sh", "-c",
                                 "dd if=/dev/zero of=/big bs=64k count=200; echo dd=$?; "
                                 "rm /big; echo again > /small && cat /small"],
                      "--disk", "1m")
    assert "No space left on device" in res.stderr, res.stderr
    assert "dd=1" in res.stdout and "again" in res.stdout, res.stdout
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert not (sec_root / "big").exists() and not (sec_root / "small").exists()


@pytest.mark.usefixtures("host_guard")
def test_dir_overlay_disk_full_enospc(sec_root, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "svsec-disk", str(disk)], check=True)
    try:
        upper = disk / "layer"
        upper.mkdir()
        res = run_sandbox(sec_root, ["/bin/sh", "-c",
                                     "dd if=/dev/zero of=/big bs=64k count=200; echo dd=$?; "
                                     "mkdir /d; echo dir=$?"],
                          "--overlay", f"dir={upper}")
        assert "No space left on device" in res.stderr, res.stderr
        assert "dd=1" in res.stdout and res.returncode == 0, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        assert not (sec_root / "big").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


# -------------------------------------------------- malformed gofer messages

ROOT = p.Creds(0, 0, ())


def _ask(sock, raw: bytes, fds=()) -> tuple[bytes, list[int]]:
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())] if fds else []
    sock.sendmsg([raw], anc)
    data, ancdata, _flags, _ = sock.recvmsg(1 << 18, socket.CMSG_SPACE(16))
    got = []
    for level, kind, rawfd in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            got.extend(array.array("i", rawfd[: len(rawfd) - len(rawfd) % 4]))
    return data, got


def _still_serves(sock):
    data, fds = _ask(sock, p.encode(p.Stat(ROOT, (b"f",), 0)))
    assert isinstance(p.decode(data), p.RData) and not fds
    data, fds = _ask(sock, p.encode(p.WalkOpen(ROOT, (b"f",), 0, os.O_RDONLY, 0)))
    assert isinstance(p.decode(data), p.RFd) and len(fds) == 1
    assert os.pread(fds[0], 16, 0) == b"inside"
    os.close(fds[0])


def _eproto(data):
    resp = p.decode(data)
    assert resp == p.RError(errno.EPROTO), resp


def test_gofer_garbage_answers_eproto_and_keeps_serving(live_gofer):
    sock, _, _ = live_gofer
    rng = random.Random(8)
    for _ in range(200):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        # ids of real requests with random bodies are garbage too, unless they decode
        try:
            p.decode(raw)
            continue
        except p.ProtocolError:
            pass
        data, fds = _ask(sock, raw)
        assert not fds
        _eproto(data)
    _still_serves(sock)


def test_gofer_truncated_messages_answer_eproto(live_gofer):
    sock, _, _ = live_gofer
    full = p.encode(p.Rename(p.Creds(0, 0, (1, 2)), (b"f",), (b"g", b"h"), 0))
    for cut in range(1, len(full)):
        data, fds = _ask(sock, full[:cut])
        assert not fds
        _eproto(data)
    _still_serves(sock)


def test_gofer_oversized_and_lying_lengths_answer_eproto(live_gofer):
    sock, _, _ = live_gofer
    hdr = struct.pack("=HIII", p.MsgId.STAT, 0, 0, 0)
    lies = [
        hdr + struct.pack("=H", 1) + struct.pack("=H", 60000) + b"a",        # name longer than msg
        hdr + struct.pack("=H", 65535) + b"\x01\x00a" * 10,                  # too many names
        struct.pack("=HIII", p.MsgId.STAT, 0, 0, 0xFFFFFFFF),                 # 4 G groups
        struct.pack("=HIII", p.MsgId.SYMLINK, 0, 0, 0) + struct.pack("=H", 1)
        + b"\x01\x00a" + struct.pack("=I", 0xFFFFFFFF),                      # huge data field
        p.encode(p.Stat(ROOT, (b"f",), 0)) + b"trailing",
        p.encode(p.Stat(ROOT, (b"a" * 255,) * 2100, 0))[:200_000],          # > MAX_COMPONENTS
        p.encode(p.Stat(ROOT, (b"f",), 0)) + b"\0" * 200_000,                # 200 KB of trailer
    ]
    for raw in lies:
        data, fds = _ask(sock, raw)
        assert not fds
        _eproto(data)
    _still_serves(sock)


def test_gofer_bad_names_and_responses_as_requests_eproto(live_gofer):
    sock, _, _ = live_gofer

    def stat_of(*names):
        body = b"".join(struct.pack("=H", len(n)) + n for n in names)
        return struct.pack("=HIII", p.MsgId.STAT, 0, 0, 0) + struct.pack("=H", len(names)) + body + b"\0"

    for raw in (stat_of(b".."), stat_of(b"."), stat_of(b"a/b"), stat_of(b"a\0b"), stat_of(b""),
                stat_of(b"x" * 256), stat_of(b"f", b".."),
                p.encode(p.RError(1)), p.encode(p.ROk()), p.encode(p.RFd()),
                p.encode(p.RData(b"x")), struct.pack("=H", 9999)):
        data, fds = _ask(sock, raw)
        assert not fds
        _eproto(data)
    # a symlink leading out is reported, never followed
    data, fds = _ask(sock, p.encode(p.WalkOpen(ROOT, (b"out", b"passwd"), 1, os.O_RDONLY, 0)))
    assert isinstance(p.decode(data), p.RSymlink) and not fds
    _still_serves(sock)


def test_gofer_drops_descriptors_sent_with_requests(live_gofer):
    sock, gofer_pid, _ = live_gofer
    r, w = os.pipe()
    try:
        data, fds = _ask(sock, p.encode(p.Stat(ROOT, (b"f",), 0)), fds=[w, w, r])
        assert isinstance(p.decode(data), p.RData) and not fds
        data, fds = _ask(sock, b"\xff\xff", fds=[w])
        _eproto(data)
        os.close(w)
        w = -1
        # the gofer kept no copy of the write end: the read end sees EOF
        os.set_blocking(r, False)
        assert os.read(r, 1) == b""
        ours = f"pipe:[{os.fstat(r).st_ino}]"
        links = [os.readlink(f"/proc/{gofer_pid}/fd/{fd}") for fd in os.listdir(f"/proc/{gofer_pid}/fd")]
        assert ours not in links, links
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    _still_serves(sock)


# ---------------------------------------------- a client facing a fake gofer

def _fake_gofer(behaviour):
    """A client whose gofer runs `behaviour(sock, request)` once per request."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.settimeout(3)

    def serve():
        try:
            while True:
                data = theirs.recv(1 << 18)
                if not data:
                    return
                if behaviour(theirs, data) == "close":
                    theirs.close()
                    return
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    return GoferClient(ours), ours


def _send_fds(sock, payload, n):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
    try:
        sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
                   if fds else [])
    finally:
        for fd in fds:
            os.close(fd)


FAKES = {
    "garbage": lambda s, d: s.send(b"\x01\x02garbage"),
    "truncated": lambda s, d: s.send(p.encode(p.RData(b"abcdef"))[:-3]),
    "request_as_response": lambda s, d: s.send(p.encode(p.Stat(ROOT, (b"f",), 0))),
    "fd_without_r_fd": lambda s, d: _send_fds(s, p.encode(p.ROk()), 1),
    "r_fd_without_fd": lambda s, d: s.send(p.encode(p.RFd())),
    "r_fd_with_two_fds": lambda s, d: _send_fds(s, p.encode(p.RFd()), 2),
    "oversized": lambda s, d: s.send(p.encode(p.RData(b"x" * 60000)) + b"\0" * (1 << 18)),
    "closes": lambda s, d: "close",
    "silent": lambda s, d: None,
}


@pytest.mark.parametrize("name", sorted(FAKES))
def test_client_facing_a_broken_gofer_answers_eio(name):
    before = len(os.listdir("/proc/self/fd"))
    client, sock = _fake_gofer(FAKES[name])
    try:
        start = time.monotonic()
        resp, fd = client.call(p.Stat(ROOT, (b"f",), 0))
        assert (resp, fd) == (p.RError(errno.EIO), -1)
        assert client.failed, name
        assert time.monotonic() - start < 30
        # and from now on, at once
        assert client.call(p.Stat(ROOT, (b"f",), 0)) == (p.RError(errno.EIO), -1)
    finally:
        sock.close()
    time.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) <= before, "descriptors leaked"
