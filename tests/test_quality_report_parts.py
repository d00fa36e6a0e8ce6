"""Parts of the quality report that need no warehouse (fast)."""

from __future__ import annotations

import datetime

from expectations.dbt_results import _row
from expectations.quality_report import trend_chart_svg


def night(day: int, status: str, critical: int = 0, warnings: int = 0) -> dict:
    return {"extract_date": datetime.date(2026, 11, day), "status": status, "status_label": status,
            "critical_failures": critical, "warnings": warnings, "quarantined": 0}


def test_a_held_back_night_is_drawn_as_held_back_not_as_a_clean_night():
    """A night held back before any check ran (a rejected file) has no failed checks to draw: it
    looked like the cleanest night of the fortnight."""
    svg = trend_chart_svg([night(1, "published"), night(2, "held_back"), night(3, "published_with_warnings", 0, 2)])
    held = [part for part in svg.split("<rect") if 'class="held-back"' in part]
    assert len(held) == 1 and "2026-11-02: held back" in held[0]
    assert 'fill="url(#held-back-hatch)"' in held[0]
    assert ">held back</text>" in svg and "<pattern id=\"held-back-hatch\"" in svg
    assert "2026-11-01: held back" not in svg and "2026-11-03: held back" not in svg


def test_a_dbt_result_keeps_what_auditors_ask_for():
    result = {"unique_id": "model.safeguarding.mart_x", "status": "success", "execution_time": 1.23456,
              "adapter_response": {"rows_affected": 42}, "message": "SELECT 42", "failures": None}
    row = _row(result, {"name": "mart_x", "description": "One row per x."})
    assert (row["resource_type"], row["model"], row["rows_affected"], row["execution_seconds"]) == \
        ("model", "mart_x", 42, 1.235)
    test = {"unique_id": "test.safeguarding.not_null_mart_x_id.abc", "status": "warn", "execution_time": 0.1,
            "adapter_response": {"rows_affected": 3}, "message": "Got 3 results", "failures": 3}
    row = _row(test, {"name": "not_null_mart_x_id", "config": {"severity": "warn"}, "column_name": "id",
                      "attached_node": "model.safeguarding.mart_x"})
    assert (row["resource_type"], row["model"], row["column_name"], row["severity"], row["failures"],
            row["rows_affected"]) == ("test", "mart_x", "id", "warn", 3, None)
