"""CPU lists in the kernel's format (cpuset.cpus, taskset -c), and OCI's resources."""

from __future__ import annotations

import pytest

from sentry.cgroups import Limits, format_cpu_list, parse_cpu_list


@pytest.mark.parametrize("text,cpus", [("0", {0}), ("0-2,5", {0, 1, 2, 5}), ("3,1", {1, 3}),
                                       (" 1 , 4-5", {1, 4, 5}), ("2-2", {2})])
def test_cpu_list_parses_numbers_and_ranges(text, cpus):
    assert parse_cpu_list(text) == frozenset(cpus)


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "2-1", "0,,1", "1.5", "0-1-2"])
def test_cpu_list_refuses_malformed(text):
    with pytest.raises(ValueError):
        parse_cpu_list(text)


@pytest.mark.parametrize("cpus,text", [({0}, "0"), ({0, 1, 2, 5}, "0-2,5"), ({3, 1}, "1,3"),
                                       ({0, 1, 3, 4, 5, 7}, "0-1,3-5,7"), (set(), "")])
def test_cpu_list_formats_folding_ranges(cpus, text):
    assert format_cpu_list(cpus) == text
    if text:
        assert parse_cpu_list(text) == frozenset(cpus)


def test_oci_cpu_cpus_becomes_the_cpuset():
    assert Limits.from_oci({"cpu": {"cpus": "0-1", "shares": 512}}) == \
        Limits(cpu_shares=512, cpus=frozenset({0, 1}))
    assert Limits.from_oci({"cpu": {"cpus": ""}}).cpus is None
    with pytest.raises(ValueError, match="linux.resources.cpu.cpus"):
        Limits.from_oci({"cpu": {"cpus": "all"}})
