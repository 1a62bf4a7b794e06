"""`python -m bench._profile_sentry OUT.prof do [OPTIONS] -- CMD`: `sandvisor do` with the
sentry process under cProfile.

The sentry is the process `sandvisor do` starts in; the gofer and the sandbox's init are
forked from it, so the profiler is switched off in every forked child (os.register_at_fork)
to keep them at full speed and their exits from overwriting the profile.
"""

import cProfile
import os
import sys


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    prof = cProfile.Profile()
    os.register_at_fork(after_in_child=prof.disable)
    from sentry.cli import main as cli
    code = 0
    prof.enable()
    try:
        cli.main(args=args, prog_name="sandvisor", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        prof.disable()
        prof.dump_stats(out)
    sys.exit(code)


if __name__ == "__main__":
    main()
