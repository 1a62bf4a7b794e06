"""A warm `sandvisor do` for the Python API (sentry/api.py keeps one spare).

Started ahead of need as `python -m sentry.warm FD`, it imports the CLI and everything
a sandbox's start-up imports, then blocks on descriptor FD for one run: a JSON object
{"argv": [...], "env": {...}, "cwd": "...", "umask": N, "rlimits": {NAME: [soft, hard]}}
up to end of file. It then becomes that run's `sandvisor do`, exactly as if started
then with that command line, environment, working directory, umask and resource
limits: its stdin, stdout and stderr are the run's. End of file without a
request (the API let its spare go, or exited) ends it quietly.

What the spare saves is the interpreter's start and the imports: most of a sandbox's
start-up (docs/BENCH.md). It is still a fresh single-threaded process per run, so the
sandbox's life is not tied to any thread of the API's process.
"""

from __future__ import annotations

import json
import os
import sys


def _warm_up() -> None:
    # what `sandvisor do` imports on its way to running a sandbox
    import gofer.server  # noqa: F401
    import gofer.view  # noqa: F401
    import sentry.cli.do  # noqa: F401
    import sentry.init  # noqa: F401
    import sentry.platform.ptrace  # noqa: F401  (imported, not probed: a probe's answer
    import sentry.platform.unotify  # noqa: F401   could go stale while the spare waits)
    import sentry.runner  # noqa: F401


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m sentry.warm CONTROL_FD (started by sentry/api.py)",
              file=sys.stderr)
        return 2
    control = int(argv[0])
    from sentry.cli import entry as cli
    _warm_up()
    with os.fdopen(control, "rb") as f:
        data = f.read()
    if not data:
        return 0
    try:
        request = json.loads(data)
        run_argv, env, cwd = list(request["argv"]), dict(request["env"]), request["cwd"]
        umask, rlimits = int(request["umask"]), dict(request["rlimits"])
        os.chdir(cwd)
        _set_rlimits(rlimits)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        print(f"sandvisor: bad request from the API on the warm worker's pipe: {exc}",
              file=sys.stderr)
        return 125
    os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    cli(run_argv)  # exits with the run's status
    return 0


def _set_rlimits(rlimits: dict) -> None:
    import resource
    for name, (soft, hard) in rlimits.items():
        if not name.startswith("RLIMIT_") or not hasattr(resource, name):
            raise ValueError(f"unknown resource limit {name!r}")
        which = getattr(resource, name)
        if resource.getrlimit(which) != (soft, hard):
            resource.setrlimit(which, (soft, hard))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
