"""Workforce, front door, child protection, trackers and scorecard marts, end to end.

The session's tiny night (tests/nights.py: generated, loaded into a database of its own, built by
the nightly dbt build and published once for every module that reads it), and the tests compare
the published marts with figures computed here, independently, in Python from the generated CSV
files. Working days are checked the way the DfE's CIN census validator computes them (pandas
CustomBusinessDay, start day = day one).
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from warehouse.settings import DBT_PROJECT_DIR

from helpers import dbt_var, query

# The shared night's build (if no module built it before): about a minute on two idle cores.
pytestmark = pytest.mark.slow

NIGHT = date(2026, 11, 22)
LONDON = ZoneInfo("Europe/London")
MY_MARTS = ("mart_workforce", "mart_workforce_partnership", "mart_front_door_contacts", "mart_front_door_referrals",
            "mart_front_door_assessments", "mart_front_door_monthly", "mart_child_protection_s47_enquiries",
            "mart_child_protection_plans", "mart_child_protection_monthly", "mart_trackers", "mart_trackers_monthly",
            "mart_partnership_scorecard")


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)


def bank_holidays() -> list[date]:
    return [date.fromisoformat(r["holiday_date"])
            for r in read_csv(DBT_PROJECT_DIR / "seeds" / "bank_holidays_england_and_wales.csv")]


@pytest.fixture(scope="module")
def built(built_nights):
    """The session's tiny night: generated, loaded, built and published once (tests/nights.py)."""
    night = built_nights.get("tiny", NIGHT)
    conn = night.connect()
    yield {"conn": conn, "files": night.files, "results": night.build_results, "night": night}
    conn.close()


def test_build_succeeds_for_every_model_and_test(built):
    # The whole nightly build: a warn-severity test may warn (the episode checks), exposures are no-ops.
    failed = [(r["unique_id"], r["status"]) for r in built["results"]
              if r["status"] not in ("success", "pass", "warn", "no-op")]
    assert not failed, f"dbt nodes that did not succeed: {failed}"
    built_models = {r["unique_id"].split(".")[-1] for r in built["results"] if r["unique_id"].startswith("model.")}
    assert set(MY_MARTS) <= built_models


def test_vacancy_rate_matches_the_hr_files(built):
    posts = read_csv(built["files"]["hr__posts"])
    employees = read_csv(built["files"]["hr__employees"])
    snapshot = max(r["snapshot_date"] for r in posts)
    area = "CHILD_PROTECTION"
    budgeted = sum(float(r["budgeted_fte"]) for r in posts if r["snapshot_date"] == snapshot and r["service_area"] == area)
    employed = sum(float(r["fte"]) for r in employees
                   if r["snapshot_date"] == snapshot and r["service_area"] == area
                   and r["start_date"] <= snapshot and (not r["leaving_date"] or r["leaving_date"] >= snapshot))
    assert budgeted > 0
    month = date.fromisoformat(snapshot).replace(day=1)
    [(vacant_fte, vacancy_rate)] = query(built["conn"],
        "select vacant_fte, vacancy_rate from marts.mart_workforce "
        "where workforce_month = %s and service_area = %s and row_level = 'AREA_TOTAL'", (month, area))
    assert float(vacant_fte) == pytest.approx(budgeted - employed, abs=0.005)
    assert float(vacancy_rate) == pytest.approx((budgeted - employed) / budgeted, abs=0.00005)


def test_grand_total_adds_up_the_areas(built):
    rows = query(built["conn"],
        "select workforce_month, sum(budgeted_fte) filter (where row_level = 'AREA_TOTAL'), "
        "       sum(budgeted_fte) filter (where row_level = 'GRAND_TOTAL'), "
        "       sum(open_case_count) filter (where row_level = 'AREA_ROLE'), "
        "       sum(open_case_count) filter (where row_level = 'GRAND_TOTAL') "
        "from marts.mart_workforce group by 1")
    assert len(rows) == 12  # twelve month-end snapshots per HR delivery
    for month, areas, total, cells, total_cases in rows:
        assert areas == total, month
        assert cells == total_cases, month


def test_s47_enquiries_that_never_reached_icpc(built):
    enquiries = read_csv(built["files"]["crs__s47_enquiries"])
    with_icpc = {r["s47_id"] for r in read_csv(built["files"]["crs__icpcs"]) if r["s47_id"]}
    expected = sum(1 for r in enquiries
                   if r["s47_id"] not in with_icpc and r["outcome_date"] and r["icpc_required"] != "Y")
    [(in_events, in_monthly)] = query(built["conn"],
        "select (select count(*) from marts.mart_child_protection_s47_enquiries where never_reached_icpc), "
        "       (select sum(s47_never_reached_icpc_count) from marts.mart_child_protection_monthly)")
    assert expected > 0
    assert in_events == expected
    assert in_monthly == expected


def test_contacts_decided_within_24_hours(built):
    contacts = read_csv(built["files"]["crs__contacts"])
    expected = sum(1 for r in contacts
                   if r["decision_at"] and timedelta(0) <= local(r["decision_at"]) - local(r["contact_at"]) <= timedelta(hours=dbt_var("contact_decision_hours")))
    late = sum(1 for r in contacts
               if r["decision_at"] and local(r["decision_at"]) - local(r["contact_at"]) > timedelta(hours=dbt_var("contact_decision_hours")))
    [(on_time, total, monthly)] = query(built["conn"],
        "select count(*) filter (where decided_within_24h), count(*), "
        "       (select sum(contact_decided_within_24h_count) from marts.mart_front_door_monthly) "
        "from marts.mart_front_door_contacts")
    assert total == len({r["contact_id"] for r in contacts})
    assert expected > 0 and late > 0, "the generator should make both timely and late decisions"
    assert on_time == expected == monthly


def test_icpc_timeliness_agrees_with_the_cin_validator_convention(built):
    """The validator's deadline is start + CustomBusinessDay(n=N-1) over England's holidays. An enquiry
    awaiting a conference past its deadline is late too (the pending rule, docs/marts.md)."""
    deadline_offset = pd.offsets.CustomBusinessDay(n=dbt_var("icpc_working_days") - 1, holidays=bank_holidays())
    icpc_dates = {}
    for r in read_csv(built["files"]["crs__icpcs"]):
        if r["s47_id"]:
            icpc_dates[r["s47_id"]] = min(icpc_dates.get(r["s47_id"], r["icpc_date"]), r["icpc_date"])
    expected_on_time = expected_late = 0
    for r in read_csv(built["files"]["crs__s47_enquiries"]):
        deadline = (pd.Timestamp(r["strategy_discussion_date"]) + deadline_offset).date()
        if r["s47_id"] in icpc_dates:
            if date.fromisoformat(icpc_dates[r["s47_id"]]) <= deadline:
                expected_on_time += 1
            else:
                expected_late += 1
        elif r["outcome_date"] and r["icpc_required"] == "Y" and deadline <= NIGHT:
            expected_late += 1  # concluded as needing a conference, none held, its 15 days passed
    [(on_time, late)] = query(built["conn"],
        "select count(*) filter (where icpc_within_15_working_days), count(*) filter (where not icpc_within_15_working_days) "
        "from marts.mart_child_protection_s47_enquiries")
    assert (on_time, late) == (expected_on_time, expected_late)


def test_working_days_over_easter_2026_match_a_hand_count(built):
    # Wednesday 1 April 2026 to Thursday 23 April 2026, counted by hand: Good Friday (3rd),
    # the weekend and Easter Monday (6th) are not working days; the start day is day one.
    hand_counted = [1, 2, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23]
    rows = query(built["conn"],
        "select extract(day from calendar_date)::int, working_day_number from intermediate.int_calendar__days "
        "where calendar_date between '2026-04-01' and '2026-04-23' and is_working_day order by 1")
    assert [day for day, _ in rows] == hand_counted
    assert rows[-1][1] - rows[0][1] + 1 == 15
    # The same count through the macro the marts use: the deadline for 15 working days from
    # 1 April is 23 April, as the validator's offset also says.
    assert (pd.Timestamp("2026-04-01") + pd.offsets.CustomBusinessDay(n=14, holidays=bank_holidays())).date() \
        == date(2026, 4, 23)
    [(due,)] = query(built["conn"],
        "select distinct icpc_due_date from marts.mart_child_protection_s47_enquiries "
        "where strategy_discussion_date = (select min(strategy_discussion_date) from "
        "marts.mart_child_protection_s47_enquiries)")
    start = query(built["conn"], "select min(strategy_discussion_date) from marts.mart_child_protection_s47_enquiries")[0][0]
    offset = pd.offsets.CustomBusinessDay(n=dbt_var("icpc_working_days") - 1, holidays=bank_holidays())
    assert due == (pd.Timestamp(start) + offset).date()


def test_scorecard_is_suppressed_and_rated(built):
    rows = query(built["conn"],
        "select measure_id, numerator, denominator, value, is_suppressed, rag_status, numerator_unit "
        "from marts.mart_partnership_scorecard")
    assert {r[0] for r in rows} >= {"FD01", "FD02", "FD03", "FD04", "CP01", "CP02", "CP03", "CP04",
                                     "WF01", "WF02", "WF03", "RHI01"}
    for measure_id, numerator, denominator, value, suppressed, rag, unit in rows:
        if suppressed:
            assert unit == "count" and numerator is None and denominator is None and value is None and rag is None
        elif unit == "count":
            threshold = dbt_var("suppression_threshold")
            assert not (1 <= numerator <= threshold) and not (1 <= denominator <= threshold), measure_id
            assert (value is None) == (denominator == 0)
        if value is not None:
            assert rag in ("GREEN", "AMBER", "RED")
    assert any(r[4] for r in rows) and any(not r[4] for r in rows)


def test_partnership_workforce_cannot_reveal_a_suppressed_count(built):
    """In each month whose total is shown, either no area count is hidden or at least two are.
    (A hidden total has nothing to subtract from: it is hidden when a single small area makes it.)"""
    for column in ("leaver_12m_count", "agency_worker_count", "asye_over_cap_count"):
        flag = {"leaver_12m_count": "is_leaver_count_suppressed",
                "agency_worker_count": "is_agency_worker_count_suppressed",
                "asye_over_cap_count": "is_asye_over_cap_suppressed"}[column]
        rows = query(built["conn"],
            f"select workforce_month, count(*) filter (where {flag} and not is_total_row), "
            f"       bool_or({column} between 1 and 5), bool_or({flag} and is_total_row) "
            f"from marts.mart_workforce_partnership group by 1")
        assert any(not total_hidden for *_, total_hidden in rows)
        for month, hidden, small_visible, total_hidden in rows:
            assert total_hidden or hidden != 1, (column, month)
            assert not small_visible, (column, month)


# --- measures as data (issue 19): a measure is one entry in var scorecard_measures -----------------

def compiled_scorecard(night, target: Path, measures: list[dict]) -> tuple[int, Path]:
    """mart_partnership_scorecard compiled with var scorecard_measures = `measures`: dbt's exit code
    and the compiled SQL's path (or the log folder when it failed)."""
    from warehouse.dbt import run_dbt

    code = run_dbt(night.settings, ["compile", "--select", "mart_partnership_scorecard",
                                    "--vars", json.dumps({"scorecard_measures": measures}),
                                    "--target-path", str(target), "--log-path", str(target / "logs")],
                   extract_date=night.extract_date.isoformat(), check=False)
    compiled = list(target.glob("compiled/**/mart_partnership_scorecard.sql"))
    return code, compiled[0] if compiled else target / "logs"


PENDING_CONTACTS = {"id": "FD99", "title": "Contacts still pending", "group": "front_door",
                    "mart": "mart_front_door_monthly", "month": "activity_month",
                    "numerator": "sum(contact_pending_count)", "denominator": "sum(contact_count)",
                    "feeds": "contacts", "target": 0.1, "polarity": "LOWER_IS_BETTER", "unit": "count"}


def test_a_measure_added_as_one_entry_is_on_the_scorecard(built, tmp_path):
    """One more entry in the declaration, nothing else: the scorecard has the measure for every month
    of the mart it reads, with that mart's figures, and every declared measure's rows unchanged."""
    night = built["night"]
    code, compiled = compiled_scorecard(night, tmp_path, dbt_var("scorecard_measures") + [PENDING_CONTACTS])
    assert code == 0
    rows = night.query(compiled.read_text().replace('"marts_build".', '"marts".'))
    published = night.query("select * from marts.mart_partnership_scorecard")

    def ordered(frame):
        return frame.sort_values(["measure_id", "measure_month"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(ordered(rows[rows["measure_id"] != "FD99"]), ordered(published))
    added = rows[rows["measure_id"] == "FD99"].set_index("measure_month")
    monthly = night.query("select activity_month, contact_pending_count, contact_count "
                          "from marts.mart_front_door_monthly").set_index("activity_month")
    assert set(added.index) == set(monthly.index) and len(added) > 3
    shown = added[~added["is_suppressed"]]
    assert len(shown) > 0 and (added["measure_name"] == "Contacts still pending").all()
    for month, row in shown.iterrows():
        assert (row["numerator"], row["denominator"]) == tuple(monthly.loc[month, ["contact_pending_count", "contact_count"]])


def test_a_wrong_measure_entry_stops_the_build_naming_it(built, tmp_path):
    """An entry without its numerator: the build stops naming the measure and the field (the other
    checks of macros/scorecard_measures.sql, unknown feeds and a repeated id, work the same way)."""
    entry = {k: v for k, v in PENDING_CONTACTS.items() if k != "numerator"}
    code, logs = compiled_scorecard(built["night"], tmp_path, dbt_var("scorecard_measures") + [entry])
    assert code != 0
    assert "var scorecard_measures, measure FD99: 'numerator' is missing" in (logs / "dbt.log").read_text(encoding="utf-8")
