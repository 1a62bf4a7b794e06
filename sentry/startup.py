"""The `sandvisor` script's entry point, and when its cyclic garbage collector runs.

Start-up creates objects that live as long as the process: modules, classes, the
sandbox's config. Collecting among them cost ~3.5 ms of every `sandvisor do` (26
young and 3 middle-generation passes during the imports alone, measured 2026-12-05),
and found nothing to free. So the collector is off from the first import until a
process starts its long work, where `start_collecting()` freezes what start-up made
(later passes never walk it again, and never touch a forked child's shared pages)
and switches it back on: the sentry's loop (sentry/runner.py), every helper process
(sentry/child.py: the gofer, the OCI exec helper) and every command but those that
start a sandbox (sentry/cli).
"""

from __future__ import annotations

import gc


def entry() -> None:
    gc.disable()
    from sentry.cli import entry as cli
    cli()


def start_collecting() -> None:
    """Where the collector is off (entry() turned it off; a process that imports
    sandvisor as a library keeps its own), freeze what exists and switch it on."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
