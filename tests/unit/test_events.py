"""The handlers' answers (sentry/events.py) are values: equal by type and fields."""

from __future__ import annotations

from sentry.events import CONTINUE, Continue, Error, InjectFd, Return


def test_answers_equal_by_type_and_fields():
    assert Return(3) == Return(3) and Return() == Return(0)
    assert Error(2) == Error(2) and Error(2) != Error(13)
    assert Return(2) != Error(2)   # the same number, another meaning
    assert InjectFd(5) == InjectFd(5, False) != InjectFd(5, True)
    assert CONTINUE == Continue() and CONTINUE != Return(0)


def test_answers_hash_as_they_compare():
    assert len({Return(1), Return(1), Error(1), InjectFd(1), CONTINUE, Continue()}) == 4


def test_answers_show_their_fields():
    assert repr(Error(2)) == "Error(errno=2)"
    assert repr(InjectFd(7, True)) == "InjectFd(fd=7, cloexec=True)"
    assert repr(CONTINUE) == "Continue()"
