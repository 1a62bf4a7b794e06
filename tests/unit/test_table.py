"""The syscall table: complete, consistent, and what `help syscalls` prints."""

import csv
import io
import itertools
import json
import os
import subprocess
import sys

from click.testing import CliRunner

from sentry.cli import main
from syscalls import table
from syscalls.table import HANDLERS, NAMES, TABLE, Disposition

_PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUST_BE_REFUSED = ["ptrace", "mount", "umount2", "pivot_root", "unshare", "setns", "bpf",
                   "io_uring_setup", "kexec_load", "init_module", "perf_event_open", "keyctl",
                   "userfaultfd", "open_by_handle_at"]
PATH_SYSCALLS = ["open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx",
                 "access", "faccessat", "faccessat2", "readlink", "readlinkat", "mkdir",
                 "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
                 "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "chown",
                 "lchown", "fchownat", "truncate", "utimensat", "execve", "execveat", "chdir",
                 "statfs", "getxattr", "setxattr", "listxattr", "removexattr", "mknod", "mknodat"]


def test_every_syscall_number_has_an_entry():
    assert set(TABLE) == set(NAMES)
    assert all(TABLE[nr].name == NAMES[nr] for nr in TABLE)
    assert max(TABLE) >= 462


def test_syscall_lists_name_each_syscall_once():
    """A name in two of the table's lists gets the disposition of whichever _build reads
    last (getcwd was listed as host and emulated, and silently trapped)."""
    lists = {"host": set(table._HOST), "emulated": set(table._EMULATED),
             "denied": set(table._DENIED), "unimplemented": set(table._UNIMPLEMENTED)}
    for a, b in itertools.combinations(lists, 2):
        assert not lists[a] & lists[b], (a, b, sorted(lists[a] & lists[b]))


def test_dangerous_syscalls_are_denied():
    by_name = {e.name: e for e in TABLE.values()}
    for name in MUST_BE_REFUSED:
        assert by_name[name].disposition is Disposition.DENY, name


def test_path_syscalls_are_emulated():
    by_name = {e.name: e for e in TABLE.values()}
    for name in PATH_SYSCALLS:
        assert by_name[name].disposition is Disposition.EMULATE, name
        assert HANDLERS[by_name[name].nr] is by_name[name].handler


def test_dispatch_list_is_the_tables_emulated_entries():
    """HANDLERS is built from the emulated rows without the table: it must hold exactly
    the table's emulated handlers, and nothing where the table says host or deny."""
    assert len(HANDLERS) == max(TABLE) + 1
    for nr, handler in enumerate(HANDLERS):
        entry = TABLE.get(nr)
        if entry is not None and entry.disposition is Disposition.EMULATE:
            assert handler is entry.handler, entry.name
        else:
            assert handler is None, NAMES.get(nr, nr)


def test_dispatch_list_comes_without_building_the_table():
    code = ("import syscalls.table as t; built = 'TABLE' in vars(t); "
            "print(built, len(t.TABLE) > 300, 'TABLE' in vars(t))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=_PROJECT).stdout.split()
    assert out == ["False", "True", "True"]


def test_host_syscalls_with_argument_rules_say_what_is_refused():
    # `help syscalls` must not call a syscall plainly "host" when the filter refuses some
    # of its arguments
    for entry in TABLE.values():
        if entry.disposition is Disposition.HOST and entry.arg_rules:
            assert "refused" in entry.note, entry.name


def test_help_syscalls_json_lists_every_entry():
    out = CliRunner().invoke(main, ["help", "syscalls", "--format", "json"]).output
    rows = json.loads(out)
    assert len(rows) == len(TABLE)
    openat = next(r for r in rows if r["name"] == "openat")
    assert openat["disposition"] == "emulate" and openat["nr"] == 257


def test_help_syscalls_csv_and_table():
    runner = CliRunner()
    rows = list(csv.DictReader(io.StringIO(
        runner.invoke(main, ["help", "syscalls", "--format", "csv"]).output)))
    assert len(rows) == len(TABLE)
    text = runner.invoke(main, ["help", "syscalls", "--disposition", "deny"]).output
    assert "ptrace" in text and "openat " not in text
