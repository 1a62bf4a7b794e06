"""containerd's runc v2 shim drives sandvisor as it drives runc (`ctr --runc-binary`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.oci.test_podman import IMAGE, SANDVISOR, podman  # noqa: F401 - the image comes from podman


@pytest.fixture(scope="module")
def ctr(podman, tmp_path_factory):  # noqa: F811
    if shutil.which("containerd") is None:
        pytest.fail("containerd is not installed: run ./setup/install.sh")
    base = tmp_path_factory.mktemp("containerd")
    for d in ("root", "state"):
        (base / d).mkdir()
    (base / "config.toml").write_text(f"""version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{base}/containerd.sock"
[ttrpc]
  address = "{base}/containerd.sock.ttrpc"
""")
    log = open(base / "containerd.log", "w")
    daemon = subprocess.Popen(["containerd", "--config", str(base / "config.toml")],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              start_new_session=True)
    sock = base / "containerd.sock"
    end = time.monotonic() + 20
    while not sock.exists() and time.monotonic() < end:
        time.sleep(0.1)
    archive = base / "busybox-docker.tar"
    res = podman("save", "--format", "docker-archive", "-o", str(archive), IMAGE)
    assert res.returncode == 0, res.stderr

    def run(*args, timeout=90):
        return subprocess.run(["ctr", "--address", str(sock), "-n", "acc", *args],
                              capture_output=True, text=True, timeout=timeout)

    run.flags = ["--runc-binary", SANDVISOR, "--runc-root", str(base / "runtime-root")]

    assert run("images", "import", str(archive)).returncode == 0
    yield run
    for cid in ("c1", "c3"):
        run("tasks", "kill", "-s", "KILL", cid)
        run("tasks", "rm", "-f", cid)
        run("containers", "rm", cid)
    daemon.terminate()
    daemon.wait(20)
    log.close()
    # rootfs mounts the shim left behind (only if a test failed half-way)
    with open("/proc/self/mountinfo") as f:
        leftovers = [line.split()[4] for line in f if f" {base}/" in line]
    for mountpoint in reversed(leftovers):
        subprocess.run(["umount", "-l", mountpoint], check=False)


def test_ctr_run_exit_status(ctr):
    res = ctr("run", "--rm", *ctr.flags, IMAGE, "c1", "sh", "-c", "echo hi; exit 5")
    assert (res.returncode, res.stdout) == (5, "hi\n"), res.stderr


def test_ctr_tasks_exec_ps_kill_delete(ctr):
    assert ctr("run", "-d", *ctr.flags, IMAGE, "c3", "sh", "-c",
               "while :; do sleep 0.1; done").returncode == 0
    time.sleep(1)
    res = ctr("tasks", "exec", "--exec-id", "e1", "c3", "sh", "-c", "echo exec-out; exit 4")
    assert (res.returncode, res.stdout) == (4, "exec-out\n")
    ps = ctr("tasks", "ps", "c3").stdout.split()
    assert ps[:2] == ["PID", "INFO"] and len(ps) >= 4
    pids = [int(pid) for pid in ps[2::2]]  # host pids (the loop's sleeps come and go)
    assert any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert ctr("tasks", "kill", "-s", "KILL", "c3").returncode == 0
    end = time.monotonic() + 20
    while "STOPPED" not in ctr("tasks", "ls").stdout and time.monotonic() < end:
        time.sleep(0.2)
    assert "STOPPED" in ctr("tasks", "ls").stdout
    assert ctr("tasks", "rm", "c3").returncode == 0
    assert ctr("containers", "rm", "c3").returncode == 0
    assert "c3" not in ctr("containers", "ls").stdout
