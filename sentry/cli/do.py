"""`sandvisor do [OPTIONS] -- CMD [ARGS...]`: run one command in a fresh sandbox."""

from __future__ import annotations

import os
import sys

import click

from sentry.cgroups import Limits
from sentry.config import (ConfigError, SandboxConfig, parse_cpuset, parse_size, parse_syscalls,
                           parse_user, parse_volume)

EXIT_SANDBOX_ERROR = 125


def _fail(message: str) -> None:
    click.echo(f"sandvisor: {message}", err=True)
    sys.exit(EXIT_SANDBOX_ERROR)


@click.command(context_settings={"ignore_unknown_options": False,
                                 "allow_interspersed_args": False})
@click.option("--root", default="/", show_default=True,
              help="Host directory to use as the sandbox's root.")
@click.option("--overlay", default="memory", show_default=True,
              help="Writable layer over the root: none (read-only), memory, or dir=PATH.")
@click.option("-v", "--volume", "volumes", multiple=True, metavar="HOST:SANDBOX[:ro|rw]",
              help="Bind a host path into the sandbox (repeatable).")
@click.option("--tmpfs", multiple=True, metavar="PATH", help="Mount a tmpfs (repeatable).")
@click.option("--network", default="none", show_default=True, type=click.Choice(["none", "host"]),
              help="none: only a private loopback; host: the host's network.")
@click.option("--cwd", default=None, help="Working directory inside (default: the caller's).")
@click.option("-e", "--env", "env", multiple=True, metavar="K=V",
              help="Set an environment variable (repeatable); the caller's are passed too.")
@click.option("--hostname", default="sandvisor", show_default=True)
@click.option("--user", default=None, metavar="UID[:GID]", help="Run as this user.")
@click.option("--platform", default="auto", show_default=True,
              help="How syscalls are trapped (see `sandvisor help platforms`).")
@click.option("--file-access", default="direct", show_default=True,
              type=click.Choice(["direct", "gofer"]),
              help="direct: the sentry opens files beneath the root the gofer donated; "
                   "gofer: every file operation is a request to the gofer process.")
@click.option("--strace", is_flag=True, help="Log every trapped syscall.")
@click.option("--strace-log", default=None, metavar="FILE", help="Where --strace writes.")
@click.option("--strace-syscalls", default=None, metavar="LIST",
              help="--strace shows only these syscalls (comma-separated names).")
@click.option("--strace-log-size", type=int, default=64, show_default=True, metavar="BYTES",
              help="--strace shows at most this much of each string or buffer.")
@click.option("--debug-log", default=None, metavar="FILE", help="Write sandvisor's own log here.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Kill the sandbox after this long (exit status 124).")
@click.option("--memory", default=None, metavar="SIZE", help="Memory limit (e.g. 256m), by cgroup.")
@click.option("--pids-limit", type=int, default=None, help="At most this many processes.")
@click.option("--cpu-seconds", type=int, default=None, help="CPU time limit (RLIMIT_CPU).")
@click.option("--cpuset-cpus", default=None, metavar="LIST",
              help="Run only on these CPUs (e.g. 0 or 0-2,5), by cgroup; the sentry and "
                   "gofer too. Where cross-CPU wake-ups are slow (VMs), one CPU can halve "
                   "the cost of an open (docs/BENCH.md).")
@click.option("--disk", default=None, metavar="SIZE", help="Size of the memory overlay.")
@click.option("--audit-log", default=None, metavar="FILE",
              help="JSON lines: every trapped syscall and its result, then a summary.")
@click.option("--profile", "profile_path", default=None, metavar="FILE|default",
              help="A TOML policy profile (see docs/PROFILES.md); `default` is deny-by-default.")
@click.option("--learn", default=None, metavar="FILE",
              help="Record what the command uses and write the smallest profile for it.")
@click.option("--result-json", default=None, metavar="FILE",
              help="Write the outcome (status, limit reached, usage) as JSON.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def do(root, overlay, volumes, tmpfs, network, cwd, env, hostname, user, platform, file_access,
       strace, strace_log, strace_syscalls, strace_log_size, debug_log, timeout, memory, pids_limit, cpu_seconds, cpuset_cpus, disk, audit_log,
       profile_path, learn, result_json, command):
    """Run COMMAND in a sandbox: by default the host's root, read-only with a writable
    overlay in memory that is discarded at exit, the caller's cwd and environment, and
    no network."""
    try:
        environ = dict(os.environ)
        for item in env:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"--env {item!r}: use K=V")
            environ[key] = value
        uid, gid = parse_user(user) if user else (None, None)
        cfg = SandboxConfig(
            argv=list(command), root=root, overlay=overlay,
            volumes=[parse_volume(v) for v in volumes], tmpfs=list(tmpfs), network=network,
            cwd=cwd or _caller_cwd(), env=environ, hostname=hostname, uid=uid, gid=gid,
            platform=platform, file_access=file_access,
            strace=strace or bool(strace_log) or bool(strace_syscalls),
            strace_log=strace_log, strace_log_size=strace_log_size,
            strace_syscalls=parse_syscalls(strace_syscalls, "--strace-syscalls")
            if strace_syscalls else None,
            debug_log=debug_log, timeout=timeout,
            limits=Limits(memory=parse_size(memory, "--memory") if memory else None,
                          memory_swap=parse_size(memory, "--memory") if memory else None,
                          pids=pids_limit,
                          cpus=parse_cpuset(cpuset_cpus, "--cpuset-cpus") if cpuset_cpus else None),
            cpu_seconds=cpu_seconds, disk_bytes=parse_size(disk, "--disk") if disk else None,
            result_json=result_json, audit_log=audit_log)
        tracers = []
        if profile_path and learn:
            raise ConfigError("--profile and --learn: choose one")
        if profile_path or learn:
            # only then: both import the syscall table, which a plain run imports
            # while init sets up (sentry/runner.py, Supervisor.run)
            from sentry import profile
            from sentry.learn import Guard, Learner
        if profile_path:
            data = profile.load(profile_path)
            cfg = profile.apply(data, cfg, dict(os.environ))
            fs = data.get("filesystem", {})
            guard = Guard(list(fs.get("readable") or ["/"]) + list(fs.get("tmpfs", []))
                          + list(fs.get("overlay", []))
                          + list(fs.get("writable", [])) + [v.target for v in cfg.volumes],
                          list(fs.get("hidden", [])))
            tracers.append(guard)
        if learn:
            learner = Learner()
            tracers.append(learner)
        cfg.check()
    except ConfigError as exc:
        _fail(str(exc))
    from sentry.runner import SandboxError, report, run_sandbox
    try:
        outcome = run_sandbox(cfg, tracers)
    except (SandboxError, ConfigError) as exc:
        _fail(str(exc))
    report(outcome)
    if profile_path:
        guard.report()
    if learn:
        with open(learn, "w") as f:
            f.write(f"# learned from: {' '.join(command)}\n" + profile.dump(learner.profile(cfg.cwd or "/")))
        click.echo(f"sandvisor: wrote the learned profile to {learn}", err=True)
    sys.exit(outcome.status)


def _caller_cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"
