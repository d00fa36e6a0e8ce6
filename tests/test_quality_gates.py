"""Write-audit-publish with the quality gates, step by step (real PostgreSQL, dbt and GX; no Airflow).

Two nights, calling the nightly step functions as the DAG's tasks do:

1. NIGHT_1 builds with a warning-level defect seeded in the build (a return month in
   the future). It is published, and flagged for BI readers (marts.publication) and in dq.
   On the way, the faults of runs that overlap, for real (publication/builds.py): a second
   build started while the first runs is refused; a build started after the first passed
   its gate is refused; a dbt run by hand that replaces a mart after the gate makes the
   publish step refuse, and the night is re-run.
2. NIGHT_2 builds, then a critical defect is seeded in the build (a raw identifier
   where a pseudonymous key belongs). The gate fails loudly, naming the expectation,
   nothing is published, and the BI role still reads NIGHT_1's marts, also when the
   publish step is then run by hand, in a process of its own, as an operator would.

The dq tables must hold the evidence of both.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import warnings

import psycopg2
import pytest

from expectations.validate import QualityGateFailed
from synthetic.generate import generate_night
from warehouse import audiences, db, dq, roles
from publication import builds
from pipeline import nightly
from expectations.quality_report import build_quality_report
from warehouse.settings import PROJECT_ROOT

from helpers import query

pytestmark = pytest.mark.slow

NIGHT_1 = datetime.date(2026, 10, 12)
NIGHT_2 = datetime.date(2026, 10, 13)
PASSWORDS = {r.password_setting: f"test-only-{r.name}" for r in roles.ROLES}
LATEST_MARTS_GATE_OF_NIGHT_1 = ("select max(validation_run_id) from dq.validation_runs "
                                "where run_id = 'quality_test_night_1' and checkpoint = 'nightly_marts'")
LEAKED_ID = "P000000042"  # what a raw person id looks like: it must never reach a mart


COUNCIL = audiences.declaration().audience("council_analysts")


def bi_reader_query(settings, sql: str):
    """Run a query as the council's analysts' role, as Power BI or Metabase would."""
    c = settings.connection
    conn = psycopg2.connect(host=c.host, port=c.port, dbname=c.dbname, user=COUNCIL.name,
                            password=PASSWORDS[COUNCIL.password_setting])
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def step_in_a_process(step: str, night: datetime.date, run_id: str | None) -> subprocess.Popen:
    """A nightly step in a process of its own, as an Airflow task (run_id) or an operator (None) runs it."""
    code = (f"import datetime; from pipeline import nightly; "
            f"nightly.{step}(datetime.date.fromisoformat('{night}'))")
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CTX_DAG_RUN_ID"}
    if run_id:
        env["AIRFLOW_CTX_DAG_RUN_ID"] = run_id  # what Airflow gives every task of a run
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen, timeout: float = 900) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def wait_until_claimed(settings, run_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    conn = db.connect(settings)
    dq.ensure_schema(conn)
    try:
        while not query(conn, "select count(*) from dq.marts_builds where run_id = %s and status = 'building'",
                        (run_id,))[0][0]:
            assert time.monotonic() < deadline, f"run {run_id} did not claim marts_build within {timeout} s"
            time.sleep(0.1)
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

    def seed_a_warning():  # one return month in the future
        conn = db.connect(settings)
        query(conn, "update marts_build.mart_return_home_interviews set return_month = date '2030-01-01' "
                    "where episode_key = (select min(episode_key) from marts_build.mart_return_home_interviews) "
                    "returning 1")
        conn.close()

    def bi_reads():
        if not bi_reader_query(settings, "select to_regclass('council.publication') is not null")[0][0]:
            return None
        return bi_reader_query(settings, "select extract_date, run_id, status from council.publication")

    # Night 1: a warning (one return month in the future), published with the flag.
    generate_night(settings.landing_dir, NIGHT_1, scale="tiny")
    nightly.extract(NIGHT_1, settings)
    outcome["bi_before"] = bi_reads()
    # Its build, and a second build (another run's) started for real while it runs.
    first = step_in_a_process("build_marts", NIGHT_1, "quality_test_night_1")
    wait_until_claimed(settings, "quality_test_night_1")
    outcome["intruder_while_building"] = finished(step_in_a_process("build_marts", NIGHT_1, "quality_test_intruder"))
    code, stderr = finished(first)
    assert code == 0, stderr[-3000:]
    seed_a_warning()
    nightly.validate_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    # Between the gate and publication: a pipeline build is refused (the claim holds) ...
    with pytest.raises(builds.BuildInProgress) as refused:
        nightly.build_marts(NIGHT_1, settings, run_id="quality_test_intruder")
    outcome["intruder_after_gate"] = str(refused.value)
    # ... and a dbt run by hand, which no claim stops, replaces a mart: the gate's verdict is not for it.
    by_hand = subprocess.run([sys.executable, "-m", "safeguarding", "dbt", "run", "--select", "mart_trackers"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert by_hand.returncode == 0, by_hand.stdout[-3000:]
    with pytest.raises(builds.BuildRefused) as changed:
        nightly.publish_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    outcome["changed_after_gate"] = str(changed.value)
    outcome["bi_after_refusal"] = bi_reads()
    # The night is re-run: built, validated and published.
    nightly.build_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    seed_a_warning()
    outcome["warnings_run"] = nightly.validate_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    nightly.publish_marts(NIGHT_1, settings, run_id="quality_test_night_1")
    outcome["published_1"] = bi_reader_query(
        settings, "select extract_date, status, warnings from council.publication")
    outcome["rows_1"] = bi_reader_query(
        settings, "select count(*), max(episode_key) from council.mart_return_home_interviews")

    # Night 2: a critical defect in the build.
    generate_night(settings.landing_dir, NIGHT_2, scale="tiny")
    nightly.extract(NIGHT_2, settings)
    nightly.build_marts(NIGHT_2, settings, run_id="quality_test_night_2")
    conn = db.connect(settings)
    query(conn, "update marts_build.mart_return_home_interviews set person_key = %s "
                "where episode_key = (select min(episode_key) from marts_build.mart_return_home_interviews) "
                "returning 1", (LEAKED_ID,))
    conn.close()
    with pytest.raises(QualityGateFailed) as failed:
        nightly.validate_marts(NIGHT_2, settings, run_id="quality_test_night_2")
    outcome["failure"] = str(failed.value)
    # Even if someone ran the publish step anyway (a cleared task), the failed build stays out ...
    with pytest.raises(builds.BuildRefused):
        nightly.publish_marts(NIGHT_2, settings, run_id="quality_test_night_2")
    # ... or ran it by hand, in a process of its own, outside Airflow (so under a run id of its own).
    outcome["published_by_hand"] = finished(step_in_a_process("publish_marts", NIGHT_2, None))
    outcome["published_after_failure"] = bi_reader_query(
        settings, "select extract_date, status, warnings from council.publication")
    outcome["rows_after_failure"] = bi_reader_query(
        settings, "select count(*), max(episode_key) from council.mart_return_home_interviews")
    outcome["leaked_rows_seen_by_bi"] = bi_reader_query(
        settings, f"select count(*) from council.mart_return_home_interviews where person_key = '{LEAKED_ID}'")
    outcome["report"] = build_quality_report(settings, extract_date=NIGHT_1)
    return outcome


def test_a_warning_publishes_with_the_flag(nights, conn):
    [(extract_date, status, warnings)] = nights["published_1"]
    assert (extract_date, status) == (NIGHT_1, "published_with_warnings") and warnings >= 1
    assert nights["rows_1"][0][0] > 0
    assert any(outcome["warnings"] for outcome in nights["warnings_run"])
    # The flag agrees with the evidence: one per failed warning-level check of the gate that passed the
    # published build (the run validated twice: its first build was changed after its gate).
    [(failed_warnings,)] = query(conn, "select count(*) from dq.validation_results where validation_run_id = "
                                       f"({LATEST_MARTS_GATE_OF_NIGHT_1}) and not success and severity = 'warning'")
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
    wrong_length = query(conn, """
        select severity, success, unexpected_count, sample_kind, unexpected_sample::text
        from dq.validation_results
        where run_id = 'quality_test_night_2' and suite = 'marts.mart_return_home_interviews'
          and expectation = 'expect_column_value_lengths_to_equal(person_key)'""")
    assert wrong_length == [("critical", False, 1, "withheld", None)]
    warned = query(conn, f"""
        select severity, success, unexpected_count from dq.validation_results
        where validation_run_id = ({LATEST_MARTS_GATE_OF_NIGHT_1}) and expectation like 'return\\_month not after%%'
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


def test_the_raw_gate_reads_the_nights_partition_and_names_the_failing_rows(nights, settings, conn):
    """The raw gate validates each feed's partition for the night as a table (a query asset would
    make GX fetch every row of the night into the task's process to learn its columns), asks GX for
    counts only, and then again for the first row numbers of a check that failed."""
    import great_expectations as gx

    from warehouse.settings import GX_PROJECT_DIR

    # Two rows the loader would have quarantined, written straight into the night's batch.
    spoiled = query(conn, """
        update raw.crs__missing_episodes set missing_type = 'X'
        where _extract_date = %s and _row_number in (
            select _row_number from raw.crs__missing_episodes where _extract_date = %s
            order by _row_number limit 2)
        returning _row_number""", (NIGHT_2, NIGHT_2))
    assert len(spoiled) == 2
    with pytest.raises(QualityGateFailed) as failed:
        nightly.validate_raw(NIGHT_2, settings, run_id="quality_test_raw_night_2")
    assert "expect_column_values_to_be_in_set(missing_type): 2 unexpected" in str(failed.value)
    [(unexpected, kind, sample)] = query(conn, """
        select unexpected_count, sample_kind, unexpected_sample from dq.validation_results
        where run_id = 'quality_test_raw_night_2' and suite = 'raw.crs__missing_episodes' and not success
          and severity = 'critical'""")
    assert (unexpected, kind, sorted(sample)) == (2, "row_number", sorted(r[0] for r in spoiled))

    [(partition,)] = query(conn, """
        select child.relname from pg_inherits i join pg_class child on child.oid = i.inhrelid
        where i.inhparent = 'raw.crs__missing_episodes'::regclass
          and pg_get_expr(child.relpartbound, child.oid) = %s""", (f"FOR VALUES IN ('{NIGHT_2.isoformat()}')",))
    with warnings.catch_warnings():  # schema_name: see expectations/validate.py, _run_gx
        warnings.filterwarnings("ignore", message=".*schema_name. is deprecated", category=DeprecationWarning)
        asset = gx.get_context(mode="file", project_root_dir=str(GX_PROJECT_DIR)).data_sources.get(
            "warehouse").get_asset("raw.crs__missing_episodes")
    assert (asset.type, asset.schema_name, asset.table_name) == ("table", "raw", partition)


# --- one build at a time, and only the build that passed is published (publication/builds.py) ------

def test_a_second_build_started_while_one_runs_is_refused(nights, conn):
    code, stderr = nights["intruder_while_building"]
    assert code != 0
    assert "BuildInProgress: marts_build is held by build " in stderr and "of run quality_test_night_1" in stderr
    # Refused before dbt wrote anything: it never claimed the schema.
    assert query(conn, "select count(*) from dq.marts_builds where run_id = 'quality_test_intruder'") == [(0,)]


def test_a_build_started_after_the_gate_passed_is_refused_until_publication(nights):
    assert "marts_build is held by build " in nights["intruder_after_gate"]
    assert "run quality_test_night_1 (extract date 2026-10-12, validated)" in nights["intruder_after_gate"]


def test_a_build_changed_after_its_gate_is_not_published(nights, conn):
    assert "marts_build is not what the quality gate passed" in nights["changed_after_gate"]
    assert nights["bi_after_refusal"] == nights["bi_before"]  # BI readers saw nothing of it
    # The build that was refused, then the re-run's, published: each with what became of it.
    assert query(conn, "select status from dq.marts_builds where run_id = 'quality_test_night_1' "
                       "order by started_at") == [("changed",), ("published",)]


def test_the_publish_step_run_by_hand_after_a_held_back_night_is_refused(nights):
    code, stderr = nights["published_by_hand"]
    assert code != 0
    assert (f"BuildRefused: run manual__{NIGHT_2.isoformat()} has no build that passed its quality gate to publish"
            in stderr), stderr[-3000:]
    assert "marts_build holds build" not in stderr  # night 2's build was held back: it holds nothing now
    assert nights["published_after_failure"] == nights["published_1"]  # BI readers still read night 1
    assert nights["rows_after_failure"] == nights["rows_1"]
