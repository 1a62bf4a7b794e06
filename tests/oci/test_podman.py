"""podman drives sandvisor as it drives runc (../shared/oci/oci-clients.md, section 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SANDVISOR = str(Path(sys.executable).with_name("sandvisor"))
IMAGE = "localhost/busybox:latest"


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run ./setup/install.sh")
    base = tmp_path_factory.mktemp("podman")
    rootfs = base / "rootfs"
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "usr/bin", "var", "run"):
        (rootfs / d).mkdir(parents=True)
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split():
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("/bin/busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\n")
    os.chmod(rootfs / "tmp", 0o1777)
    os.chown(rootfs / "home" / "user", 1000, 1000)
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(base / "rootfs.tar"), "."], check=True)
    (base / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\nrunroot = "{base}/run"\ngraphroot = "{base}/storage"\n')
    (base / "containers.conf").write_text(f"""
[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{base}/events.log"
tmp_dir = "{base}/libpod-tmp"
lock_type = "file"
runtime = "sandvisor"
runtime_supports_json = ["sandvisor"]
[engine.runtimes]
sandvisor = ["{SANDVISOR}"]
[network]
network_config_dir = "{base}/networks"
""")
    env = dict(os.environ, CONTAINERS_CONF=str(base / "containers.conf"),
               CONTAINERS_STORAGE_CONF=str(base / "storage.conf"))

    def run(*args, timeout=90, input=None):
        return subprocess.run(["podman", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, input=input)

    res = run("import", "--change", 'CMD ["/bin/sh"]', "--change",
              "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              str(base / "rootfs.tar"), IMAGE)
    assert res.returncode == 0, res.stderr
    run.env = env
    run.base = base
    yield run
    run("rm", "-af")
    run("rmi", "-af")


def test_podman_run_rm_echo(podman):
    res = podman("run", "--rm", IMAGE, "sh", "-c", "echo hi; grep Seccomp: /proc/self/status")
    assert (res.returncode, res.stdout) == (0, "hi\nSeccomp:\t2\n"), res.stderr


@pytest.mark.parametrize("code", [0, 3, 42])
def test_podman_exit_codes(podman, code):
    assert podman("run", "--rm", IMAGE, "sh", "-c", f"exit {code}").returncode == code


def test_podman_kill_gives_137(podman):
    assert podman("run", "-d", "--name", "k137", IMAGE, "sleep", "60").returncode == 0
    assert podman("kill", "k137").returncode == 0
    res = podman("wait", "k137")
    assert res.stdout.strip() == "137"
    podman("rm", "-f", "k137")


def test_podman_missing_and_unexecutable_commands(podman):
    res = podman("run", "--rm", IMAGE, "/nope")
    assert res.returncode == 127 and "not found" in res.stderr
    res = podman("run", "--rm", IMAGE, "/etc/passwd")
    assert res.returncode == 126 and "permission denied" in res.stderr


def test_podman_detach_exec_logs_pause_stop(podman):
    assert podman("run", "-d", "--name", "d1", IMAGE, "sh", "-c",
                  "echo started; while :; do sleep 0.1; done").returncode == 0
    time.sleep(1)
    res = podman("exec", "d1", "sh", "-c", "echo exec-out; exit 5")
    assert (res.returncode, res.stdout) == (5, "exec-out\n")
    # an exec'd process reaches the container's pid 1 through /proc (ptrace-mode
    # checks), as with runc: no Landlock domain of its own (SandboxConfig.confine_files)
    res = podman("exec", "d1", "sh", "-c",
                 "tr '\\0' '\\n' < /proc/1/environ | grep -c '^PATH='; head -c4 /proc/1/maps")
    assert res.returncode == 0 and res.stdout.splitlines()[0] == "1", res.stdout + res.stderr
    assert podman("logs", "d1").stdout == "started\n"
    assert podman("pause", "d1").returncode == 0
    assert podman("inspect", "-f", "{{.State.Status}}", "d1").stdout.strip() == "paused"
    assert podman("unpause", "d1").returncode == 0
    start = time.monotonic()
    assert podman("stop", "-t", "2", "d1").returncode == 0  # TERM is ignored by pid 1: KILL
    assert time.monotonic() - start < 20
    assert podman("inspect", "-f", "{{.State.ExitCode}}", "d1").stdout.strip() == "137"
    assert podman("restart", "d1").returncode == 0
    assert podman("inspect", "-f", "{{.State.Status}}", "d1").stdout.strip() == "running"
    assert podman("rm", "-f", "d1").returncode == 0


def test_podman_volumes_read_only_user_env(podman, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    assert podman("run", "--rm", "-v", f"{vol}:/data", IMAGE, "sh", "-c", "echo w > /data/f").returncode == 0
    assert (vol / "f").read_text() == "w\n"
    res = podman("run", "--rm", "-v", f"{vol}:/data:ro", IMAGE, "sh", "-c", "echo w > /data/g")
    assert res.returncode == 1 and "Read-only file system" in res.stderr
    res = podman("run", "--rm", "--read-only", IMAGE, "sh", "-c", "touch /x; echo rc=$?; touch /tmp/y && echo tmpok")
    assert res.stdout.split() == ["rc=1", "tmpok"]
    res = podman("run", "--rm", "--user", "1000", IMAGE, "sh", "-c", "id -u; echo $HOME")
    assert res.stdout.split() == ["1000", "/home/user"]
    res = podman("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "--hostname", "hh", IMAGE, "sh", "-c",
                 "echo $FOO $(pwd) $(hostname)")
    assert res.stdout.strip() == "bar /tmp hh"


def test_podman_run_it_under_a_pty(podman):
    cmd = f"podman run -it --rm {IMAGE} sh"
    res = subprocess.run(["script", "-qefc", cmd, "/dev/null"], input="tty; exit 3\n",
                         capture_output=True, text=True, timeout=90, env=podman.env)
    assert res.returncode == 3 and "/dev/pts/0" in res.stdout


def test_podman_memory_and_pids_limits_visible_and_enforced(podman):
    script = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max;"
              "n=0; for i in $(seq 1 80); do sleep 5 & n=$((n+1)); done 2>/dev/null; "
              "echo spawned; ls /proc | grep -c '^[0-9]'")
    res = podman("run", "--rm", "--memory", "64m", "--pids-limit", "50", IMAGE, "sh", "-c", script)
    lines = res.stdout.split()
    assert lines[:2] == ["67108864", "50"], res.stdout + res.stderr
    assert int(lines[-1]) <= 50


def test_podman_cpuset_cpus_confines_the_container(podman):
    res = podman("run", "--rm", "--cpuset-cpus", "1", IMAGE, "sh", "-c",
                 "grep Cpus_allowed_list /proc/self/status; cat /sys/fs/cgroup/cpuset/cpuset.cpus")
    assert res.stdout.split()[-2:] == ["1", "1"], res.stdout + res.stderr


def test_podman_exec_it_under_a_pty(podman):
    assert podman("run", "-d", "--name", "eit", IMAGE, "sleep", "60").returncode == 0
    try:
        res = subprocess.run(["script", "-qefc", "podman exec -it eit sh", "/dev/null"],
                             input="tty; exit 4\n", capture_output=True, text=True, timeout=90,
                             env=podman.env)
        assert res.returncode == 4 and "/dev/pts/" in res.stdout
    finally:
        podman("rm", "-f", "-t", "0", "eit")


def test_install_registers_the_runtime_with_podman(podman, tmp_path):
    import tomllib
    dropins = tmp_path / "containers.conf.d"
    res = subprocess.run([SANDVISOR, "install", "--podman-dir", str(dropins)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    conf = tomllib.loads((dropins / "50-sandvisor.conf").read_text())
    assert conf["engine"]["runtimes"]["sandvisor"] == [SANDVISOR]
    assert "BinaryName" in res.stdout and "kind: RuntimeClass" in res.stdout
    # the registered binary is what podman will exec, with a scrubbed environment
    res = subprocess.run(conf["engine"]["runtimes"]["sandvisor"] + ["features"],
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 0 and '"hooks"' in res.stdout
