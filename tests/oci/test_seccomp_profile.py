"""config.json linux.seccomp: the container's own profile, on top of the sandbox's filter."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from sentry.config import ConfigError
from sentry.oci.seccomp import compile_profile
from sentry.platform.bpf import evaluate
from tests.oci.test_bundle_workflow import make_bundle, oci  # noqa: F401 - the fixture

AUDIT_ARCH_X86_64 = 0xC000003E
ALLOW, ERRNO, KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
NR = {"mkdir": 83, "kexec_load": 246, "personality": 135, "getpid": 39, "uname": 63}


def podman_profile() -> dict:
    # the profile podman 4.3 passed on this machine kind (../shared/oci); a copy of it
    # lives beside this test so the suite does not depend on the shared folder
    return json.loads((Path(__file__).parent / "podman-seccomp.json").read_text())


def test_seccomp_profile_podman_default_compiles_to_its_decisions():
    prog = compile_profile(podman_profile())
    run = lambda name, *args: evaluate(prog, NR[name], AUDIT_ARCH_X86_64, args or (0,) * 6)
    assert run("mkdir") == ALLOW
    assert run("kexec_load") == ERRNO | errno.EPERM          # listed: errnoRet 1
    assert run("personality", 8) == ALLOW                     # allowed for these values only
    assert run("personality", 0x12345) == ERRNO | errno.ENOSYS   # the default: ENOSYS


def test_seccomp_profile_rules_with_args_and_actions():
    prog = compile_profile({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES},
            {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS",
             "args": [{"index": 0, "value": 0xF0, "valueTwo": 0x10, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"},
        ]})
    assert evaluate(prog, NR["uname"], AUDIT_ARCH_X86_64) == ERRNO | errno.EACCES
    assert evaluate(prog, NR["personality"], AUDIT_ARCH_X86_64, (0x13, 0, 0, 0, 0, 0)) \
        == KILL_PROCESS
    assert evaluate(prog, NR["personality"], AUDIT_ARCH_X86_64, (0x23, 0, 0, 0, 0, 0)) == ALLOW
    assert evaluate(prog, NR["getpid"], AUDIT_ARCH_X86_64) == ALLOW


@pytest.mark.parametrize("profile,needle", [
    ({"defaultAction": "SCMP_ACT_NOTIFY"}, "SCMP_ACT_NOTIFY"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock"}, "listenerPath"),
    ({"defaultAction": "SCMP_ACT_BOGUS"}, "unknown action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["uname"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 9, "value": 0, "op": "SCMP_CMP_EQ"}]}]}, "index 9"),
    ([], "must be an object"),
])
def test_seccomp_profile_refuses_what_it_cannot_apply(profile, needle):
    with pytest.raises(ConfigError, match=needle):
        compile_profile(profile)


def test_seccomp_profile_denies_inside_a_container(oci, tmp_path, busybox_root):
    # mkdir is emulated by the sandbox (a notification); the profile's ERRNO outranks it
    script = "mkdir /made && echo made; uname -s; echo done"
    bundle = make_bundle(tmp_path, busybox_root, ["sh", "-c", script])
    config = json.loads((bundle / "config.json").read_text())
    config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": errno.EROFS}]}
    (bundle / "config.json").write_text(json.dumps(config))
    rc, out, err, _ = oci("run", "--bundle", str(bundle), "sc1")
    assert rc == 0, err
    assert out == "Linux\ndone\n"
    assert "Read-only file system" in err
    assert not (bundle / "rootfs" / "made").exists()


def test_seccomp_profile_podman_default_runs_a_container(oci, tmp_path, busybox_root):
    bundle = make_bundle(tmp_path, busybox_root, ["sh", "-c", "mkdir /d && ls / | grep -c d"])
    config = json.loads((bundle / "config.json").read_text())
    config["linux"]["seccomp"] = podman_profile()
    (bundle / "config.json").write_text(json.dumps(config))
    rc, out, err, _ = oci("run", "--bundle", str(bundle), "sc2")
    assert rc == 0 and int(out) >= 2, err
