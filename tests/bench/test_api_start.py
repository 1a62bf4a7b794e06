"""`python -m bench api` (bench/api_start.py): every row runs and checks its output;
a program that fails makes its rows FAILED, never a time."""

from __future__ import annotations

from bench import api_start
from bench.workloads import BY_NAME, Prepared, _equals


def test_api_start_rows_are_measured_and_checked():
    rows = api_start.measure(runs=2, quick=True)
    assert list(rows) == ["native", "sandvisor do (cold)", "API, after a pause",
                          "API, back to back"]
    for name, row in rows.items():
        assert row["status"] == "ok", (name, row)
        assert len(row["ms"]) == 2 and row["min"] <= row["median"] <= row["max"]
    table = api_start.markdown(rows)
    assert "FAILED" not in table and table.count("\n") == 5


def test_api_start_failing_program_fails_every_row(monkeypatch):
    start = BY_NAME["start"]
    monkeypatch.setattr(start, "prepare",
                        lambda quick: Prepared(argv=["/bin/false"], expect=_equals("ok")))
    rows = api_start.measure(runs=2, quick=True)
    assert {row["status"] for row in rows.values()} == {"failed"}
    assert api_start.markdown(rows).count("**FAILED**") == 4
