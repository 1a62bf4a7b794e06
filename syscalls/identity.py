"""Credential changes and exits: the host kernel runs them; the sentry only drops
what it cached about the caller (its ids and umask, its memory descriptor)."""

from __future__ import annotations

from sentry.events import CONTINUE


def invalidate_creds(kernel, task, args):
    task.identity = None
    return CONTINUE


def exit_(kernel, task, args):
    # a thread's own exit (a process's end: sentry.platform.unotify.ProcessExits)
    kernel.forget(task.tid)
    return CONTINUE

