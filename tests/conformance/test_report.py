"""Report formats, and the committed report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import harness, report

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_session() -> harness.Session:
    cases = harness.discover("umask_returns_previous,kill_errors_and_zero")
    targets = [harness.make_target("native"), harness.make_target("sh -c 'exit 3' sh"),
               harness.make_target("no-such-runtime-xyz")]
    return harness.run_cases(cases, targets, jobs=2)


def test_json_report(small_session, tmp_path):
    path = tmp_path / "r.json"
    report.write_report(small_session, path)
    data = json.loads(path.read_text())
    assert set(data["results"]) == {"native", "sh -c 'exit 3' sh", "no-such-runtime-xyz"}
    statuses = {r["status"] for r in data["results"]["sh -c 'exit 3' sh"]}
    assert statuses == {"fail"}
    assert {r["status"] for r in data["results"]["no-such-runtime-xyz"]} == {"skip"}
    assert any(row["name"] == "umask" for row in data["syscalls"])


def test_junit_report(small_session, tmp_path):
    path = tmp_path / "r.xml"
    report.write_report(small_session, path)
    root = ET.parse(path).getroot()
    failures = root.findall(".//testcase/failure")
    skipped = root.findall(".//testcase/skipped")
    assert len(failures) == 2 and len(skipped) == 2
    assert "exit status 3" in failures[0].get("message")


def test_markdown_report(small_session, tmp_path):
    path = tmp_path / "r.md"
    report.write_report(small_session, path)
    text = path.read_text()
    assert "| family | cases | native |" in text
    assert "## Known differences: sh -c 'exit 3' sh" in text
    with pytest.raises(ValueError):
        report.write_report(small_session, tmp_path / "r.txt")


def test_committed_report_has_the_native_sandvisor_and_runsc_columns():
    text = (REPO / "docs" / "CONFORMANCE.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| family | cases |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert {"native", "sandvisor", "sandvisor:ptrace", "runsc"} <= set(columns), columns
    assert "## Known differences: sandvisor" in text
    assert "## Syscall table joined with the cases" in text


def test_json_roundtrip_rerenders_the_same_markdown(small_session, tmp_path):
    again = report.session_from_json(report.to_json(small_session))
    assert report.to_markdown(again) == report.to_markdown(small_session)
