"""The ptrace platform: its probe's reasons, and the ptrace ABI facts it relies on."""

from __future__ import annotations

import ctypes
import os
import signal
import struct

import pytest

from sentry import ffi
from sentry.platform import PlatformUnavailable, _registry, choose, probe_all
from sentry.platform import ptrace as pt


# -- constants and struct layouts -------------------------------------------------------
def test_ptrace_requests_and_options():
    assert (ffi.PTRACE_SEIZE, ffi.PTRACE_INTERRUPT, ffi.PTRACE_LISTEN) == (0x4206, 0x4207, 0x4208)
    assert ffi.PTRACE_GET_SYSCALL_INFO == 0x420E
    assert (ffi.PTRACE_GETREGS, ffi.PTRACE_SETREGS, ffi.PTRACE_CONT) == (12, 13, 7)
    assert ffi.PTRACE_O_TRACESECCOMP == 1 << 7
    assert ffi.PTRACE_O_EXITKILL == 1 << 20
    assert ffi.PTRACE_EVENT_SECCOMP == 7 and ffi.PTRACE_EVENT_STOP == 128
    assert pt.OPTIONS & ffi.PTRACE_O_EXITKILL and pt.OPTIONS & ffi.PTRACE_O_TRACESECCOMP
    for opt in (ffi.PTRACE_O_TRACEFORK, ffi.PTRACE_O_TRACEVFORK, ffi.PTRACE_O_TRACECLONE,
                ffi.PTRACE_O_TRACEEXEC):
        assert pt.OPTIONS & opt


def test_python_ptrace_agrees_where_it_has_the_constant():
    from ptrace.binding import func
    assert func.PTRACE_GETREGS == ffi.PTRACE_GETREGS
    assert func.PTRACE_SETREGS == ffi.PTRACE_SETREGS
    assert func.PTRACE_CONT == ffi.PTRACE_CONT
    assert func.PTRACE_SETOPTIONS == ffi.PTRACE_SETOPTIONS
    assert func.PTRACE_GETEVENTMSG == ffi.PTRACE_GETEVENTMSG
    assert func.PTRACE_EVENT_EXEC == ffi.PTRACE_EVENT_EXEC


def test_user_regs_struct_offsets_match_python_ptrace():
    from ptrace.binding.func import ptrace_registers_t
    assert ctypes.sizeof(ptrace_registers_t) == ffi.USER_REGS_SIZE == 216
    for name, offset in ffi.REG.items():
        assert getattr(ptrace_registers_t, name).offset == offset, name
    assert (ffi.REG["orig_rax"], ffi.REG["rax"], ffi.REG["rip"], ffi.REG["rsp"]) == \
        (120, 80, 128, 152)
    # one unpack reads the number and the six arguments
    assert ffi.SYSCALL_REGS_OFFSET + ffi.SYSCALL_REGS.size == ffi.REG["orig_rax"] + 8


def test_syscall_info_layout():
    assert ffi.PTRACE_SYSCALL_INFO_HEAD.size == 24
    assert ffi.PTRACE_SYSCALL_INFO_SECCOMP_.size == ffi.PTRACE_SYSCALL_INFO_SIZE == 88
    assert ffi.PTRACE_SYSCALL_INFO_EXIT_.size == 40


def test_wait_flags():
    assert ffi.WALL == 0x40000000 and ffi.WNOTHREAD == 0x20000000


def test_regs_and_syscall_info_of_a_live_tracee():
    """Stop a child at a syscall with PTRACE_SYSCALL and check both views agree."""
    from ptrace.binding.func import ptrace
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(r, 1)
        os.getppid()
        os._exit(0)
    try:
        ptrace(ffi.PTRACE_SEIZE, pid, 0, ffi.PTRACE_O_TRACESYSGOOD | ffi.PTRACE_O_EXITKILL)
        ptrace(ffi.PTRACE_INTERRUPT, pid, 0, 0)
        _, status = os.waitpid(pid, ffi.WALL)
        assert status >> 16 == ffi.PTRACE_EVENT_STOP
        os.write(w, b"x")
        for _ in range(200):   # syscall stops until getppid's entry
            ptrace(24, pid, 0, 0)   # PTRACE_SYSCALL
            _, status = os.waitpid(pid, ffi.WALL)
            assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP | 0x80
            regs = ctypes.create_string_buffer(ffi.USER_REGS_SIZE)
            ptrace(ffi.PTRACE_GETREGS, pid, 0, ctypes.addressof(regs))
            info = ctypes.create_string_buffer(ffi.PTRACE_SYSCALL_INFO_SIZE)
            size = ptrace(ffi.PTRACE_GET_SYSCALL_INFO, pid, ffi.PTRACE_SYSCALL_INFO_SIZE,
                          ctypes.addressof(info))
            op, arch, ip, sp = ffi.PTRACE_SYSCALL_INFO_HEAD.unpack_from(info)
            assert arch == ffi.AUDIT_ARCH_X86_64
            assert ip == struct.unpack_from("=Q", regs, ffi.REG_RIP)[0]
            assert sp == struct.unpack_from("=Q", regs, ffi.REG_RSP)[0]
            nr = struct.unpack_from("=q", regs, ffi.REG_ORIG_RAX)[0]
            if op == ffi.PTRACE_SYSCALL_INFO_ENTRY and nr == 110:   # getppid
                assert size >= 72
                assert struct.unpack_from("=Q", info, 24)[0] == 110
                break
        else:
            pytest.fail("no getppid entry stop")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, ffi.WALL)
        os.close(r)
        os.close(w)


def test_scratch_image_layout():
    img = pt.PtracePlatform._scratch_image(0x1000)
    assert len(img) == pt._SCRATCH_SIZE
    name, namelen, iov, iovlen, ctrl, ctrllen, flags = pt._MSGHDR.unpack_from(img, pt._MSG)
    assert (name, namelen, iov, iovlen, ctrl, ctrllen, flags) == \
        (0, 0, 0x1000 + pt._IOV, 1, 0x1000 + pt._CTRL, 24, 0)
    assert pt._MSGHDR.size == 56 and pt._CTRL + pt._CMSG_SPACE <= pt._SCRATCH_SIZE
    assert pt._IOVEC.unpack_from(img, pt._IOV) == (0x1000 + pt._BUF, 1)


# -- probing ------------------------------------------------------------------------------
def test_registered_after_unotify():
    assert list(_registry()) == ["unotify", "ptrace"]
    assert [p.name for p in probe_all()] == ["unotify", "ptrace"]


def test_probe_usable_here():
    probe = pt.PtracePlatform.probe()
    assert probe.usable, probe.reason


@pytest.mark.parametrize("scope,usable", [("0", True), ("1", True), ("2", True), ("3", False)])
def test_probe_yama_scope(tmp_path, monkeypatch, scope, usable):
    path = tmp_path / "ptrace_scope"
    path.write_text(scope + "\n")
    monkeypatch.setattr(ffi, "YAMA_PTRACE_SCOPE", str(path))
    probe = pt.PtracePlatform.probe()
    assert probe.usable is usable
    if not usable:
        assert "ptrace_scope is 3" in probe.reason


def test_probe_scope_2_without_cap(tmp_path, monkeypatch):
    path = tmp_path / "ptrace_scope"
    path.write_text("2\n")
    monkeypatch.setattr(ffi, "YAMA_PTRACE_SCOPE", str(path))
    monkeypatch.setattr(pt, "has_cap_sys_ptrace", lambda: False)
    probe = pt.PtracePlatform.probe()
    assert not probe.usable and "CAP_SYS_PTRACE" in probe.reason


def test_probe_without_yama(monkeypatch):
    monkeypatch.setattr(ffi, "YAMA_PTRACE_SCOPE", "/nonexistent/ptrace_scope")
    probe = pt.PtracePlatform.probe()
    assert probe.usable and "no yama" in probe.reason


def test_probe_already_traced(monkeypatch):
    monkeypatch.setattr(pt, "_tracer_of", lambda pid="self": 4242)
    probe = pt.PtracePlatform.probe()
    assert not probe.usable
    assert "itself being traced by pid 4242" in probe.reason


def test_probe_old_kernel(monkeypatch):
    monkeypatch.setattr(pt, "kernel_version", lambda: (5, 4))
    probe = pt.PtracePlatform.probe()
    assert not probe.usable and "5.4" in probe.reason


def test_choosing_unusable_ptrace_is_an_error(monkeypatch):
    monkeypatch.setattr(pt, "_tracer_of", lambda pid="self": 4242)
    with pytest.raises(PlatformUnavailable, match="platform ptrace is not usable here: "
                                                   "sandvisor is itself being traced"):
        choose("ptrace")
    assert choose("auto").name == "unotify"   # auto still works: unotify comes first
