"""Credential changes and exits: the host kernel runs them; the sentry only drops
what it cached about the caller (its ids and umask, its memory descriptor)."""

from __future__ import annotations

from sentry.events import CONTINUE


def invalidate_creds(kernel, task, args):
    task.identity = None
    return CONTINUE


def exit_(kernel, task, args):
    kernel.forget(task.tid)
    return CONTINUE


def exit_group(kernel, task, args):
    kernel.forget_group(task.tgid)
    return CONTINUE
