"""Fixtures shared by the conformance harness's own tests.

The case list and the full native and sandvisor runs are computed once per session;
the tests that need them read the same results (the FULL-claims check and the
known-differences check both use the sandvisor run)."""

from __future__ import annotations

import pytest

from conformance import harness


@pytest.fixture(scope="session")
def all_cases() -> list[harness.Case]:
    return harness.discover(jobs=2)


@pytest.fixture(scope="session")
def native_session(all_cases) -> harness.Session:
    return harness.run_cases(all_cases, [harness.make_target("native")], jobs=2, timeout=30)


@pytest.fixture(scope="session")
def sandvisor_session(all_cases) -> harness.Session:
    """Every case under sandvisor (about a minute with -j 2 on two cores)."""
    return harness.run_cases(all_cases, [harness.make_target("sandvisor")], jobs=2, timeout=30)
