"""The cyclic garbage collector during start-up (sentry/startup.py): off from the
script's first import until a process starts its long work, then on, with start-up's
objects frozen."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from sentry import startup
from sentry.child import fork_helper
from sentry.cli import STARTS_SANDBOX, main
from tests.conftest import do_args


@pytest.fixture
def collector_off():
    """The collector off, as the script's entry leaves it; afterwards as it was, and
    nothing of this test process left frozen."""
    was = gc.isenabled()
    gc.disable()
    yield
    gc.unfreeze()
    if was:
        gc.enable()


def test_start_collecting_freezes_and_enables(collector_off):
    startup.start_collecting()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_start_collecting_leaves_a_running_collector_alone():
    """A process using sandvisor as a library keeps its collector as it was: nothing is
    frozen out of its reach."""
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    startup.start_collecting()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_fork_helper_child_collects(collector_off):
    r, w = os.pipe()
    pid = fork_helper("sv-test", {w})
    if pid == 0:
        os.write(w, b"on" if gc.isenabled() else b"off")
        os._exit(0)
    os.close(w)
    try:
        assert os.read(r, 8) == b"on"
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    assert not gc.isenabled()   # the parent's own start-up goes on


@pytest.mark.parametrize("name", ["help", "state", "bench", "do", "create"])
def test_cli_command_collects_unless_it_starts_a_sandbox(collector_off, name):
    main.get_command(None, name)
    assert gc.isenabled() == (name not in STARTS_SANDBOX)


def test_sentry_collects_while_serving_not_before():
    """Through the script's own entry: the collector is off when the sandbox has
    started (before the sentry's lock-down) and on by the time its loop has served
    the application."""
    probe = (
        "import gc, os, sys\n"
        "from sentry import runner\n"
        "started, outcome = runner.Supervisor.on_started, runner.Supervisor._outcome\n"
        "def on_started(self, kernel):\n"
        "    os.write(2, b'started:%d\\n' % gc.isenabled())\n"
        "    return started(self, kernel)\n"
        "def _outcome(self):\n"
        "    os.write(2, b'served:%d\\n' % gc.isenabled())\n"
        "    return outcome(self)\n"
        "runner.Supervisor.on_started, runner.Supervisor._outcome = on_started, _outcome\n"
        "sys.argv[0] = 'sandvisor'\n"
        "from sentry.startup import entry\n"
        "entry()\n")
    # the probe imports sentry.runner before entry(): only the switch is under test
    proc = subprocess.run([sys.executable, "-c", probe, *do_args(["--", "/bin/true"])],
                          capture_output=True, text=True, timeout=60, cwd="/tmp")
    assert proc.returncode == 0, proc.stderr
    assert "started:0" in proc.stderr and "served:1" in proc.stderr, proc.stderr
