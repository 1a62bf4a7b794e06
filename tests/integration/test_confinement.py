"""Confinement: what is outside the sandbox's view stays invisible and untouched."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import pytest

from tests.conftest import run_do


@pytest.fixture
def host_secret(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST-SECRET")
    return secret


def _sh(root, script, *extra, timeout=60):
    return run_do(["--root", str(root), *extra, "--", "/bin/sh", "-c", script], timeout=timeout)


def test_open_host_file_outside_root_is_enoent(bb_root_with_progs, host_secret):
    res = _sh(bb_root_with_progs, f"cat {host_secret}; echo rc=$?")
    assert "HOST-SECRET" not in res.stdout
    assert "No such file or directory" in res.stderr and "rc=1" in res.stdout


def test_dotdot_cannot_leave_the_root(bb_root_with_progs, host_secret):
    rel = "../" * 12 + str(host_secret).lstrip("/")
    res = _sh(bb_root_with_progs, f"cd /tmp && cat {rel}; cat /../../{host_secret}; ls /..")
    assert "HOST-SECRET" not in res.stdout
    assert res.stderr.count("No such file or directory") == 2
    assert "busybox" not in res.stdout and "bin" in res.stdout  # /.. is the root itself


def test_symlinks_pointing_out_resolve_inside(bb_root_with_progs, host_secret):
    script = (f"ln -sf {host_secret} /tmp/abs; ln -sf {'../' * 12}{str(host_secret).lstrip('/')} /tmp/rel;"
              "cat /tmp/abs; cat /tmp/rel; echo done")
    res = _sh(bb_root_with_progs, script)
    assert "HOST-SECRET" not in res.stdout and "done" in res.stdout
    assert res.stderr.count("No such file or directory") == 2


def test_proc_magic_links_stay_inside(bb_root_with_progs, host_secret):
    script = (f"cat /proc/self/root{host_secret}; cat /proc/1/root{host_secret};"
              f"cd /tmp; cat /proc/self/cwd/{'../' * 8}{str(host_secret).lstrip('/')};"
              "readlink /proc/self/root; ls /proc/self/root/ | head -3")
    res = _sh(bb_root_with_progs, script)
    assert "HOST-SECRET" not in res.stdout
    assert res.stderr.count("No such file or directory") == 3
    assert res.stdout.splitlines()[0] == "/"


def test_symlink_swapped_by_racing_thread(bb_root_with_progs, host_secret):
    escape = "../" * 12 + str(host_secret).lstrip("/")
    res = _sh(bb_root_with_progs, f"cd /tmp && swap_race {escape} 3000")
    assert "HOST-SECRET" not in res.stdout
    assert res.stdout.strip().endswith("other=0 failed=1"), res.stdout + res.stderr


def test_read_only_root_gives_erofs_and_host_untouched(bb_root_with_progs):
    before = sorted(os.listdir(bb_root_with_progs))
    res = _sh(bb_root_with_progs, "touch /newfile; mkdir /newdir; echo x > /etc/passwd; echo end",
              "--overlay", "none")
    assert res.stderr.count("Read-only file system") == 3, res.stderr
    assert sorted(os.listdir(bb_root_with_progs)) == before
    assert (bb_root_with_progs / "etc" / "passwd").read_text().startswith("root:")


def test_memory_overlay_writes_inside_only(bb_root_with_progs):
    res = _sh(bb_root_with_progs, "echo changed > /etc/passwd; mkdir -p /new/dir; echo hi > /new/dir/f;"
              "cat /etc/passwd /new/dir/f; rm /bin/cat; ls /bin/cat")
    assert res.stdout.splitlines()[:2] == ["changed", "hi"]
    assert "No such file or directory" in res.stderr
    assert not (bb_root_with_progs / "new").exists()
    assert (bb_root_with_progs / "etc" / "passwd").read_text().startswith("root:")
    assert (bb_root_with_progs / "bin" / "cat").exists()


def test_volumes_rw_and_ro(bb_root_with_progs, tmp_path):
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (ro / "given").write_text("given")
    res = _sh(bb_root_with_progs, "echo out > /rw/made; cat /ro/given; echo x > /ro/nope",
              "-v", f"{rw}:/rw", "-v", f"{ro}:/ro:ro")
    assert (rw / "made").read_text() == "out\n"
    assert res.stdout == "given"
    assert "Read-only file system" in res.stderr
    assert not (ro / "nope").exists()


def test_network_none_cannot_reach_host_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    script = (f"import socket\ntry:\n socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
              " print('connected')\nexcept OSError as e:\n print('refused', e.errno)")
    try:
        res = run_do(["--", "python3", "-c", script])
        assert res.stdout.startswith("refused"), res.stdout + res.stderr
        assert not accepted
        host = run_do(["--network", "host", "--", "python3", "-c", script])
        assert host.stdout.startswith("connected")
    finally:
        server.close()


def test_host_processes_are_invisible(bb_root_with_progs):
    res = _sh(bb_root_with_progs, "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '; echo; kill -0 1 && echo init-visible")
    pids = [int(p) for p in res.stdout.split("\n")[0].split()]
    # a fresh pid namespace: init, the shell and its pipeline, nothing of the host's
    assert 1 in pids and len(pids) <= 8 and max(pids) < 12, pids
    assert "init-visible" in res.stdout


def test_dangerous_syscalls_are_refused(bb_root_with_progs):
    res = run_do(["--root", str(bb_root_with_progs), "--", "/bin/refused"])
    lines = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    assert len(lines) == 15, res.stdout + res.stderr
    for name, outcome in lines.items():
        ret, err = outcome.split()
        assert ret == "-1" and err in ("EPERM", "ENOSYS"), (name, outcome)


@pytest.mark.parametrize("abi", ["i386", "x32"])
def test_foreign_abi_syscalls_kill_the_process(bb_root_with_progs, abi):
    res = run_do(["--root", str(bb_root_with_progs), "--", "/bin/badabi", abi])
    assert res.returncode == 128 + 31  # SIGSYS
    assert "survived" not in res.stdout


def _fd_links(listing: str) -> dict[int, str]:
    links = {}
    for line in listing.splitlines():
        if " -> " in line:
            left, target = line.split(" -> ", 1)
            links[int(left.split()[-1])] = target
    return links


def test_no_sentry_or_gofer_descriptor_inside(bb_root_with_progs):
    res = _sh(bb_root_with_progs, "ls -l /proc/self/fd/; echo ==; ls -l /proc/1/fd/")
    own_listing, init_listing = res.stdout.split("==")
    own, init = _fd_links(own_listing), _fd_links(init_listing)
    # the application: stdio (and the directory ls itself reads, if it shows it)
    assert sorted(own)[:3] == [0, 1, 2], own
    assert all(fd <= 2 or target.startswith("/proc/") for fd, target in own.items()), own
    # init: stdio and the status pipe to the sentry, nothing else
    assert len(init) == 4 and all(fd <= 2 or t.startswith("pipe:") for fd, t in init.items()), init
    for target in [*own.values(), *init.values()]:
        assert not any(word in target for word in ("seccomp", "socket", "pidfd", "pid:[")), target


# CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3
@pytest.mark.parametrize("access", ["direct", "gofer"])
@pytest.mark.parametrize("drop", ["none", "0", "1,2", "3", "0,1,2,3"])
def test_capset_dropped_capabilities_hold_for_file_operations(tmp_path, static_progs, drop,
                                                              access):
    """A root process that gives up capabilities with capset(2) cannot use them through
    the sentry or the gofer either: the same results as natively."""
    work = tmp_path / f"caps-{drop.replace(',', '_')}"
    work.mkdir()
    others = work / "others"
    others.write_text("secret\n")
    os.chown(others, 1234, 1234)
    os.chmod(others, 0o600)
    prog = static_progs["dropcaps"]
    native = subprocess.run([str(prog), drop, str(others), str(work)], capture_output=True,
                            text=True)
    os.chmod(others, 0o600)
    inside = run_do(["--file-access", access, "-v", f"{work}:/w", "-v", f"{prog}:/dropcaps:ro",
                     "--", "/dropcaps", drop, "/w/others", "/w"])
    assert native.returncode == 0, native.stderr
    assert (inside.returncode, inside.stdout) == (0, native.stdout), inside.stderr
    if drop == "0,1,2,3":
        assert "chown Operation not permitted" in native.stdout   # the test can fail
        assert "open_others Permission denied" in native.stdout
    assert "nobody_open_others Permission denied" in native.stdout
