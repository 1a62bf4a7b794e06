"""CI fails if a syscall-table entry claims FULL support with no passing case."""

from __future__ import annotations

import pytest

from conformance import report
from syscalls.table import TABLE, Support


# The whole-suite sandvisor run (a session fixture) may land in this test's time.
@pytest.mark.timeout(480)
def test_full_claims_have_a_passing_case(sandvisor_session):
    assert report.unproven_full_claims(sandvisor_session, "sandvisor") == []


def test_some_entries_claim_full():
    """The check above is not vacuous: conformance has promoted entries to FULL."""
    assert sum(e.support is Support.FULL for e in TABLE.values()) >= 10


@pytest.mark.timeout(480)
def test_claims_check_catches_an_unproven_claim(sandvisor_session, monkeypatch):
    """An entry claiming FULL with no case is reported."""
    import syscalls.table as table
    nr = table.NUMBERS["vhangup"]
    fake = dict(table.TABLE)
    fake[nr] = fake[nr]._replace(support=Support.FULL)
    monkeypatch.setattr(table, "TABLE", fake)
    assert report.unproven_full_claims(sandvisor_session, "sandvisor") == ["vhangup"]
