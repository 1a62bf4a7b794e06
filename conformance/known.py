"""Known differences: cases that fail under a target for a reason we understand.

A known difference is still a failure in the report (it shows the diff); it is listed
here so the report can say *why*, and so `conformance run` can tell new regressions from
documented gaps (its exit status ignores known differences unless --strict).  Entries for
sandvisor are bug reports against the core: remove one when the core fixes it (a known
difference that passes is reported as "fixed" so the list cannot go stale silently).
"""

from __future__ import annotations

KNOWN: dict[str, dict[str, str]] = {
    "sandvisor": {
        "test_openat_proc_sys_kernel": "/proc/sys is read-only inside by design (host-global sysctls such as kernel.core_pattern; docs/SECURITY.md)",
        "test_capget_root_caps": "the application starts without CAP_SYS_ADMIN and the other capabilities Docker's default set leaves out (by design)",
        "test_clone3_fork_like": "clone3 is denied with ENOSYS by design (its flags live in memory); libc falls back to clone",
        "test_clone_newns_denied_semantics": "namespace-creating clone flags are denied (EPERM) by design",
        "test_prctl_no_new_privs_dumpable": "the sandbox sets no_new_privs before starting the application (seccomp requires it)",
        "test_adjtimex_query": "adjtimex is denied (EPERM) by design, even a read-only query (modes=0)",
        "test_clock_settime_invalid": "clock_settime is denied with EPERM before argument checks (EINVAL natively)",
        "test_socket_errors": "the filter's socket() argument rules allow only stream, datagram and seqpacket types, so an invalid type (99) gets EPERM from the filter instead of the kernel's EINVAL",
        # Intermittent (see INTERMITTENT below): seen in some full runs, not in others.
        "test_rt_sigsuspend_wakes": "intermittent: hung (timed out) in one of three full runs when the harness was new (commit 63771e8); not seen since in 11,300 runs of the two cases under load on both platforms and 7 full runs (stop 19); its signal calls all run on the host, so a stall at start or exit is the likelier cause",
        "test_rt_sigtimedwait_pending": "intermittent: hung (timed out) in the same full run as test_rt_sigsuspend_wakes, which runs beside it; not seen since (stop 19: 11,300 runs, 7 full runs)",
    },
    "runsc": {},
    "proot": {},
}


# Known differences that do not fail every run: a pass is not a sign they were fixed.
INTERMITTENT: frozenset[str] = frozenset(
    name for name, reason in KNOWN["sandvisor"].items() if reason.startswith("intermittent:"))

# Other runtimes' differences are theirs, not bugs of ours: one reason for all, the
# report still shows each case's diff.
DEFAULT_REASON: dict[str, str] = {
    "runsc": "Debian 12's runsc (gVisor release 20221219) behaves differently; see the diff",
    "proot": "proot 5.1 (ptrace-based path translation) behaves differently; see the diff",
}


def kind_of(target: str) -> str:
    """The KNOWN key for a target label: sandvisor[:platform], or the prefix's program."""
    if target == "sandvisor" or target.startswith("sandvisor:"):
        return "sandvisor"
    first = target.split()[0] if target.split() else target
    return first.rsplit("/", 1)[-1]


def known_reason(target: str, case: str) -> str | None:
    kind = kind_of(target)
    return KNOWN.get(kind, {}).get(case) or DEFAULT_REASON.get(kind)


# Differences the filesystem fuzzer (conformance/fsfuzz.py) found in sandvisor, as
# (regex over one transcript line, reason). A matching line's errno is masked on both
# sides before comparing, so every other divergence still fails the fuzz test.
FUZZ_KNOWN: list[tuple[str, str]] = [
    (r"^\d+: (?:rename|link) (?:\S*\.\. \S+|\S+ \S*\.\.) = -1 E[A-Z]+$",
     "rename/link with '..' as the last component of a path: the sentry answers EBUSY "
     "before resolving the other path, Linux reports that path's error first (e.g. ENOENT)"),
]
