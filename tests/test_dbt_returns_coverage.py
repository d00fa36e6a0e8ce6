"""A council that sends only its SSDA903 return: the marts say "not measurable", never a false 0.

The night holds batches of the four feeds an SSDA903 return gives (people, looked-after
episodes, missing episodes with dates only, care leavers' OC3), written by hand as small CSV
files and loaded with the real loader; every other feed has its raw table but no batch for the
extract date (31 March). One real `dbt build` for the module, in a database of its own, then
the marts' quality suites (GX) on the result. A full delivery is covered, unchanged, by
tests/test_dbt_safeguarding.py and tests/test_dbt_workforce_front_door.py.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from helpers import drop_database, fresh_database, query
from nights import load_files

pytestmark = pytest.mark.slow

AS_AT = date(2025, 3, 31)  # the return year's 31 March
DATABASE = "test_returns_coverage"
FEEDS_IN_THE_903_RETURN = ("crs__people", "crs__looked_after_episodes", "crs__missing_episodes", "crs__care_leavers")

# Looked-after episodes as an SSDA903 return has them. Each child has its own month of birth
# (2010-MM-15), so a row of the mart can be found by birth_month. The year is 1 April 2024 to
# 31 March 2025.
EPISODES = [
    # child, start, end, reason new episode, reason ceased
    ("C01", "2023-05-01", "2025-03-31", "S", "E13"),  # ends ON the as-at date: not looked after at 31 March
    ("C02", "2024-06-01", "", "S", ""),               # open, started in the year
    *[(f"C0{n}", "2020-01-01", "", "S", "") for n in range(3, 9)],  # open all year (6 children)
    ("C09", "2024-01-01", "2024-03-31", "S", "E11"),  # ended before the year: not in the mart
    ("C10", "2022-01-01", "2024-10-15", "S", "X1"),   # a placement move: X1, then a new episode
    ("C10", "2024-10-15", "", "P", ""),
    ("C11", "2024-09-01", "2025-04-01", "S", "E13"),  # ends the day after: looked after at 31 March
]
LOOKED_AFTER_AT_AS_AT = {"C02", "C03", "C04", "C05", "C06", "C07", "C08", "C10", "C11"}
IN_THE_YEAR = LOOKED_AFTER_AT_AS_AT | {"C01"}
# Missing episodes (SSDA903 has dates only: times are midnight). Three returned in January, one open.
MISSING = [("M1", "C03", "2025-01-05 00:00", "2025-01-06 00:00"), ("M2", "C04", "2025-01-10 00:00", "2025-01-12 00:00"),
           ("M3", "C05", "2025-01-20 00:00", "2025-01-20 00:00"), ("M4", "C06", "2025-03-30 00:00", "")]
# Care leavers with OC3 codes (born 2006: former relevant, 18).
CARE_LEAVERS = [("L1", "YES", "F1", "B1"), ("L2", "NO", "G5", "B2"), ("L3", "YES", "P2", "C1")]


def child_number(child: str) -> int:
    return int(child[1:])


def write_csv(path: Path, feed, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=feed.column_names, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in feed.column_names})
    return path


def return_files(folder: Path) -> dict[str, Path]:
    from extract.feeds import FEEDS_BY_ID

    children = sorted({e[0] for e in EPISODES})
    people = [{"person_id": c, "date_of_birth": f"2010-{child_number(c):02d}-15", "gender": "1",
               "uasc": "Y" if c == "C02" else "N"} for c in children]
    people += [{"person_id": p, "date_of_birth": "2006-06-01", "gender": "2", "uasc": "N"} for p, *_ in CARE_LEAVERS]
    episodes = [{"la_episode_id": f"E{i}", "person_id": child, "start_date": start, "end_date": end,
                 "reason_new_episode": rne, "legal_status": "C2", "placement_type": "K2" if end else "U1",
                 "reason_episode_ceased": rec} for i, (child, start, end, rne, rec) in enumerate(EPISODES)]
    missing = [{"episode_id": e, "person_id": p, "missing_type": "M", "missing_start": start, "missing_end": end,
                "looked_after": "Y", "team": "NOT_RECORDED"} for e, p, start, end in MISSING]
    leavers = [{"person_id": p, "eligibility_category": "FORMER_RELEVANT", "eligibility_date": "2022-09-01",
                "in_touch": in_touch, "activity": activity, "accommodation": accommodation, "in_education": "N"}
               for p, in_touch, activity, accommodation in CARE_LEAVERS]
    rows = {"crs__people": people, "crs__looked_after_episodes": episodes, "crs__missing_episodes": missing,
            "crs__care_leavers": leavers}
    return {feed: write_csv(folder / f"{feed}.csv", FEEDS_BY_ID[feed], rows[feed]) for feed in FEEDS_IN_THE_903_RETURN}


@pytest.fixture(scope="module")
def built(settings, tmp_path_factory):
    from extract.feeds import FEEDS
    from extract.returns.registry import RETURN_FEEDS
    from warehouse import db
    from warehouse.dbt import run_dbt

    mine = fresh_database(settings, DATABASE)
    # Every raw table exists (as after any earlier load; dbt's sources need them): only four get a batch.
    loaded = load_files(mine, return_files(tmp_path_factory.mktemp("returns")), AS_AT, feeds=FEEDS + RETURN_FEEDS)
    assert all(r.status == "loaded" and r.rows_quarantined == 0 for r in loaded.values()), loaded
    conn = db.connect(mine)
    target = tmp_path_factory.mktemp("dbt-target")
    # Every model and test, as the nightly run builds them (the quality gate validates every mart);
    # snapshots keep history across nights (this is a single night), and the dbt unit tests do not
    # read the data (they run in every other dbt test module).
    run_dbt(mine, ["build", "--exclude", "resource_type:snapshot", "resource_type:unit_test",
                   "--target-path", str(target),
                   "--log-path", str(tmp_path_factory.mktemp("dbt-logs"))],
            extract_date=AS_AT.isoformat(), check=False)
    results = json.loads((target / "run_results.json").read_text())["results"]
    yield {"conn": conn, "settings": mine, "results": results}
    conn.close()
    drop_database(settings, DATABASE)


def test_build_and_its_tests_pass_with_only_the_return(built):
    failed = [(r["unique_id"], r["status"]) for r in built["results"]
              if r["status"] not in ("success", "pass", "no-op")]
    assert not failed, f"dbt nodes that did not succeed: {failed}"


def test_only_the_returned_feeds_are_delivered(built):
    rows = query(built["conn"], "select feed, is_delivered from intermediate.int_feeds__delivered")
    assert {feed for feed, delivered in rows if delivered} == set(FEEDS_IN_THE_903_RETURN)
    assert len(rows) >= 21  # every declared feed has a row, delivered or not
    measurable = dict(query(built["conn"], "select measure, is_measurable from intermediate.int_feeds__measurability"))
    assert measurable["looked_after"] and not measurable["rhi"] and not measurable["pathway_plan_timeliness"]
    assert not measurable["contacts"] and not measurable["workforce"]


def test_rhi_timeliness_is_not_measurable_but_episodes_are_counted(built):
    conn = built["conn"]
    episodes = query(conn, "select is_rhi_measurable, offered_within_72h, interviewed_within_72h, rhi_recorded, "
                           "in_denominator from marts_build.mart_return_home_interviews")
    assert len(episodes) == len(MISSING)
    assert {(m, o, i, r) for m, o, i, r, _ in episodes} == {(False, None, None, None)}
    monthly = query(conn, "select report_month, returned_episodes_count, open_episodes_count, offered_within_72h_count, "
                          "offered_within_72h_rate, interviewed_within_72h_rate, no_rhi_recorded_count, "
                          "police_notified_not_recorded_count, is_rhi_measurable "
                          "from marts_build.mart_return_home_interviews_monthly order by report_month")
    assert [(r[0], r[1], r[2]) for r in monthly] == [(date(2025, 1, 1), 3, 0), (date(2025, 3, 1), 0, 1)]
    for row in monthly:
        assert row[3:] == (None, None, None, None, None, False), row


def test_scorecard_says_not_measurable(built):
    rows = query(built["conn"], "select measure_id, measure_month, value, numerator, is_measurable, rag_status "
                                "from marts_build.mart_partnership_scorecard order by measure_id, measure_month")
    rhi = [r for r in rows if r[0] == "RHI01"]
    assert rhi == [("RHI01", date(2025, 1, 1), None, None, False, "NOT_MEASURABLE")]
    pathway = [r for r in rows if r[0] == "PP01"]
    assert pathway and all(r[2:] == (None, None, False, "NOT_MEASURABLE") for r in pathway)
    # No contacts, CP or HR feeds: their measures have no rows at all, never a 0.
    assert {r[0] for r in rows} == {"RHI01", "PP01"}


def test_care_leavers_oc3_measured_pathway_timeliness_not(built):
    rows = query(built["conn"], "select is_pathway_plan_timeliness_measurable, statutory_on_time, statutory_days_late, "
                                "review_count, is_in_touch, is_in_education_employment_training, "
                                "is_accommodation_suitable from marts_build.mart_pathway_plans")
    assert sorted(rows, key=str) == sorted([(False, None, None, None, True, True, True),
                                            (False, None, None, None, False, False, False),
                                            (False, None, None, None, True, True, True)], key=str)
    [(in_touch, on_time_rate)] = query(built["conn"], "select sum(in_touch_count), max(statutory_on_time_rate) "
                                                      "from marts_build.mart_pathway_plans_monthly")
    assert (in_touch, on_time_rate) == (2, None)


def test_children_looked_after_at_31_march(built):
    rows = query(built["conn"], "select extract(month from birth_month)::int, is_looked_after_at_as_at, started_in_year, "
                                "ceased_in_year, episodes_in_year_count, as_at_date "
                                "from marts_build.mart_looked_after_children")
    by_child = {f"C{row[0]:02d}": row[1:] for row in rows}
    assert set(by_child) == IN_THE_YEAR  # C09 left care before the year
    assert {c for c, r in by_child.items() if r[0]} == LOOKED_AFTER_AT_AS_AT
    assert by_child["C01"][:3] == (False, False, True)  # episode ends on 31 March: not counted, ceased
    assert by_child["C02"][:3] == (True, True, False)   # open episode: counted, started in the year
    assert by_child["C10"][:4] == (True, False, False, 2)  # X1 placement move: no cessation
    assert {r[4] for r in by_child.values()} == {AS_AT}


def test_looked_after_monthly_counts_and_suppression(built):
    [march] = query(built["conn"], "select looked_after_count, started_count, ceased_count, is_ceased_count_suppressed, "
                                   "uasc_looked_after_count, is_uasc_looked_after_count_suppressed, "
                                   "is_looked_after_measurable, counted_at_date "
                                   "from marts_build.mart_looked_after_monthly where report_month = '2025-03-01'")
    # 9 looked after at 31 March; no starts (a true 0); 1 ceased (C01), suppressed; 1 UASC, suppressed.
    assert march == (9, 0, None, True, None, True, True, AS_AT)
    [(months,)] = query(built["conn"], "select count(*) from marts_build.mart_looked_after_monthly")
    assert months == 12


def test_quality_gate_passes_with_not_measurable_marts(built):
    """The marts' suites run on this build: NULL rates and empty marts of undelivered feeds are no critical failure."""
    from expectations.validate import run_checkpoint

    outcomes = run_checkpoint(built["settings"].connection.url, "marts", extract_date=AS_AT, record=False)
    by_suite = {o.suite: o for o in outcomes}
    assert all(o.success for o in outcomes), [o.critical_failures for o in outcomes if not o.success]
    # An empty mart of an undelivered feed is reported as a warning.
    assert any("not empty" in w for w in by_suite["marts.mart_workforce"].warnings), by_suite["marts.mart_workforce"]
