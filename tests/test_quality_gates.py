"""Write-audit-publish with the quality gates, step by step (real PostgreSQL, dbt and GX; no Airflow).

Two nights, calling the nightly step functions as the DAG's tasks do:

1. NIGHT_1 builds with a warning-level defect seeded in the build (a return month in
   the future). It is published, and flagged for BI readers (marts.publication) and in dq.
2. NIGHT_2 builds, then a critical defect is seeded in the build (a raw identifier
   where a pseudonymous key belongs). The gate fails loudly, naming the expectation,
   nothing is published, and the BI role still reads NIGHT_1's marts.

The dq tables must hold the evidence of both.
"""

from __future__ import annotations

import datetime

import psycopg2
import pytest

from expectations.validate import QualityGateFailed
from extract.generate import generate_night
from warehouse import db, nightly, publish, roles
from warehouse.quality_report import build_quality_report

from helpers import query

pytestmark = pytest.mark.slow

NIGHT_1 = datetime.date(2026, 10, 12)
NIGHT_2 = datetime.date(2026, 10, 13)
PASSWORDS = {r.password_setting: f"test-only-{r.name}" for r in roles.ROLES}
LEAKED_ID = "P000000042"  # what a raw person id looks like: it must never reach a mart


def bi_reader_query(settings, sql: str):
    """Run a query as the BI role, as Power BI or Metabase would."""
    c = settings.connection
    conn = psycopg2.connect(host=c.host, port=c.port, dbname=c.dbname, user=roles.BI_READER.name,
                            password=PASSWORDS[roles.BI_READER.password_setting])
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def nights(settings):
    conn = db.connect(settings)
    try:
        roles.apply_roles(conn, PASSWORDS)
    finally:
        conn.close()
    outcome = {}

    # Night 1: a warning (one return month in the future), published with the flag.
    generate_night(settings.landing_dir, NIGHT_1, scale="tiny")
    nightly.extract(NIGHT_1, settings)
    nightly.build_marts(NIGHT_1, settings)
    conn = db.connect(settings)
    query(conn, "update marts_build.mart_return_home_interviews set return_month = date '2030-01-01' "
                "where episode_key = (select min(episode_key) from marts_build.mart_return_home_interviews) "
                "returning 1")
    conn.close()
    outcome["warnings_run"] = nightly.validate_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    nightly.publish_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    outcome["published_1"] = bi_reader_query(
        settings, "select extract_date, status, warnings from marts.publication")
    outcome["rows_1"] = bi_reader_query(
        settings, "select count(*), max(episode_key) from marts.mart_return_home_interviews")

    # Night 2: a critical defect in the build.
    generate_night(settings.landing_dir, NIGHT_2, scale="tiny")
    nightly.extract(NIGHT_2, settings)
    nightly.build_marts(NIGHT_2, settings)
    conn = db.connect(settings)
    query(conn, "update marts_build.mart_return_home_interviews set person_key = %s "
                "where episode_key = (select min(episode_key) from marts_build.mart_return_home_interviews) "
                "returning 1", (LEAKED_ID,))
    conn.close()
    with pytest.raises(QualityGateFailed) as failed:
        nightly.validate_marts(NIGHT_2, settings, run_id="quality_test_night_2")
    outcome["failure"] = str(failed.value)
    # Even if someone ran the publish step anyway (a cleared task), the failed build stays out.
    with pytest.raises(publish.NothingToPublish):
        nightly.publish_marts(NIGHT_2, settings, run_id="quality_test_night_2")
    outcome["published_after_failure"] = bi_reader_query(
        settings, "select extract_date, status, warnings from marts.publication")
    outcome["rows_after_failure"] = bi_reader_query(
        settings, "select count(*), max(episode_key) from marts.mart_return_home_interviews")
    outcome["leaked_rows_seen_by_bi"] = bi_reader_query(
        settings, f"select count(*) from marts.mart_return_home_interviews where person_key = '{LEAKED_ID}'")
    outcome["report"] = build_quality_report(settings, extract_date=NIGHT_1)
    return outcome


def test_a_warning_publishes_with_the_flag(nights, conn):
    [(extract_date, status, warnings)] = nights["published_1"]
    assert (extract_date, status) == (NIGHT_1, "published_with_warnings") and warnings >= 1
    assert nights["rows_1"][0][0] > 0
    assert any(outcome["warnings"] for outcome in nights["warnings_run"])
    # The flag agrees with the evidence: one per failed warning-level check of the run.
    [(failed_warnings,)] = query(conn, "select count(*) from dq.validation_results where run_id = "
                                       "'quality_test_night_1' and not success and severity = 'warning'")
    assert warnings == failed_warnings


def test_a_critical_defect_is_held_back_and_bi_readers_keep_the_previous_marts(nights, conn):
    # Loud, and names the expectation that failed.
    assert "Quality gate nightly_marts failed" in nights["failure"]
    assert "expect_column_values_to_match_regex(person_key)" in nights["failure"]
    # The leaked id never reached the BI role; it still reads night 1, unchanged.
    assert nights["published_after_failure"] == nights["published_1"]
    assert nights["rows_after_failure"] == nights["rows_1"]
    assert nights["leaked_rows_seen_by_bi"] == [(0,)]
    [(status, stage, critical_failures)] = query(
        conn, "select status, stage, critical_failures from dq.nightly_runs where run_id = 'quality_test_night_2'")
    assert (status, stage) == ("held_back", "validate_marts") and critical_failures >= 1


def test_dq_holds_the_results_of_both(nights, conn):
    failed = query(conn, """
        select severity, success, unexpected_count, sample_kind, unexpected_sample::text
        from dq.validation_results
        where run_id = 'quality_test_night_2' and suite = 'marts.mart_return_home_interviews'
          and expectation = 'expect_column_values_to_match_regex(person_key)'""")
    # The failing value may be a raw identifier: counted, but not copied into dq.
    assert failed == [("critical", False, 1, "withheld", None)]
    warned = query(conn, """
        select severity, success, unexpected_count from dq.validation_results
        where run_id = 'quality_test_night_1' and expectation like 'return\\_month not after%%'
          and suite = 'marts.mart_return_home_interviews'""")
    assert warned == [("warning", False, 1)]
    runs = dict(query(conn, "select run_id, status from dq.nightly_runs where run_id like 'quality_test_%%'"))
    assert runs == {"quality_test_night_1": "published_with_warnings", "quality_test_night_2": "held_back"}
    # Each checkpoint run's count of evaluated checks agrees with the results stored for it.
    assert query(conn, """
        select bool_and(vr.evaluated = (select count(*) from dq.validation_results r
                                        where r.validation_run_id = vr.validation_run_id))
        from dq.validation_runs vr where run_id like 'quality_test_%%'""") == [(True,)]
    leaked = query(conn, "select count(*) from dq.validation_results where unexpected_sample::text like %s",
                   (f"%{LEAKED_ID}%",))
    assert leaked == [(0,)]


def test_the_reports_show_both_nights(nights):
    html = nights["report"].read_text()
    assert "Published with warnings" in html and "return_month not after" in html
    # The failing step built the held-back night's report itself.
    held_back = nights["report"].with_name(f"{NIGHT_2.isoformat()}.html").read_text()
    assert "Held back" in held_back and "expect_column_values_to_match_regex(person_key)" in held_back
    assert f"extract of <strong>{NIGHT_1.isoformat()}</strong>" in held_back  # what BI readers still see
    index = nights["report"].with_name("index.html").read_text()
    assert NIGHT_1.isoformat() in index and NIGHT_2.isoformat() in index
    assert LEAKED_ID not in html + held_back
