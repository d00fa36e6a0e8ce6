"""The command line says only what is true (issue #16, "No false success").

Fast: no DAG run here. The end-to-end runs (`safeguarding run` for a night before the DAGs'
old start date, its exit status and last lines, the task logs and true run times) are in
tests/test_nightly_run.py; the returns import's last lines in tests/test_returns_end_to_end.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path


from safeguarding.local_run import RunSummary, TaskLogFiles, outcome_problems

from conftest import free_port


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "safeguarding", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ) | env)


# --- safeguarding run: success means every step ran and the night was published --------------

EVERY_STEP = {"resolve_extract_date": "success", "extract": "success", "publish": "success"}


def test_a_published_run_with_every_step_done_is_a_success():
    assert outcome_problems(RunSummary("d", "r", "success", EVERY_STEP), "published") == []
    assert outcome_problems(RunSummary("d", "r", "success", EVERY_STEP), "published_with_warnings") == []


def test_a_run_with_no_tasks_is_not_a_success():
    """What `airflow dags test` did for a logical date before the DAG's start_date: a run with no
    task at all, in state success, and `safeguarding run` printed "Done"."""
    problems = outcome_problems(RunSummary("d", "r", "success", {}), None)
    assert any("has no tasks: nothing ran" in p for p in problems)
    assert any("not published" in p for p in problems)


def test_steps_that_did_not_run_are_named():
    states = EVERY_STEP | {"extract": "upstream_failed", "publish": "none"}
    problems = outcome_problems(RunSummary("d", "r", "failed", states), "held_back", "validate_raw",
                                "Quality gate nightly_raw failed\nSuite ...")
    assert "steps that did not succeed: extract (upstream_failed), publish (none)" in problems
    assert "the DAG run ended in state 'failed'" in problems
    assert "the night was not published: dq.nightly_runs says held_back at validate_raw: " \
           "Quality gate nightly_raw failed" in problems


def test_every_task_succeeding_is_not_enough_without_a_publication():
    problems = outcome_problems(RunSummary("d", "r", "success", EVERY_STEP), None)
    assert problems == ["the night was not published: the run recorded no outcome in dq.nightly_runs"]


def test_task_logs_go_where_the_airflow_ui_reads_them(tmp_path):
    console = """2026-12-03T10:17:36Z [info     ] creating dag run   [airflow] logical_date=x run_id=manual__2026-12-03T10:17:36+00:00
2026-12-03T10:17:37Z [info     ] [DAG TEST] starting task_id=extract map_index=-1 [airflow.sdk.definitions.dag]
loaded raw.crs__people: 12 rows
\x1b[0m10:17:38  Running with dbt=1.11.16
2026-12-03T10:17:39Z [info     ] [DAG TEST] end task task_id=extract map_index=-1 [airflow.sdk.definitions.dag]
2026-12-03T10:17:40Z [info     ] between tasks: nobody's log
2026-12-03T10:17:41Z [info     ] [DAG TEST] starting task_id=wait_for_files.crs__people map_index=-1 [x]
2026-12-03T10:17:42Z [warning  ] try 1 failed
2026-12-03T10:17:42Z [info     ] [DAG TEST] end task task_id=wait_for_files.crs__people map_index=-1 [x]
2026-12-03T10:17:43Z [info     ] [DAG TEST] starting task_id=wait_for_files.crs__people map_index=-1 [x]
2026-12-03T10:17:44Z [info     ] [DAG TEST] end task task_id=wait_for_files.crs__people map_index=-1 [x]
"""
    logs = TaskLogFiles(tmp_path, "safeguarding_nightly")
    for line in console.splitlines(keepends=True):
        logs.feed(line)
    logs.close()
    run = tmp_path / "dag_id=safeguarding_nightly" / "run_id=manual__2026-12-03T10:17:36+00:00"
    extract = [json.loads(line) for line in (run / "task_id=extract" / "attempt=1.log").read_text().splitlines()]
    events = [record["event"] for record in extract]
    assert events[1:3] == ["loaded raw.crs__people: 12 rows", "10:17:38  Running with dbt=1.11.16"]  # no ANSI
    assert extract[0]["level"] == "info" and all(record["timestamp"] for record in extract)
    assert not any("nobody's log" in e for e in events)
    sensor = run / "task_id=wait_for_files.crs__people"
    assert "try 1 failed" in (sensor / "attempt=1.log").read_text()  # each try its own file, as the UI expects
    assert "try 1 failed" not in (sensor / "attempt=2.log").read_text()


def test_airflow_runs_with_the_virtualenv_on_path_and_slots_for_this_machine(settings):
    """`make airflow-ui` runs .venv/bin/safeguarding with no virtualenv activated; `airflow standalone`
    starts its components by the name `airflow`, so .venv/bin must be on their PATH. Task slots
    follow the machine's cores, not Airflow's default of 32 LocalExecutor workers."""
    from safeguarding.cli import airflow_env

    saved = os.environ.get("PATH")
    os.environ["PATH"] = "/usr/bin:/bin"
    try:
        env = airflow_env(settings)
    finally:
        os.environ["PATH"] = saved
    first = env["PATH"].split(os.pathsep)[0]
    assert Path(first, "airflow").exists() and Path(first) == Path(sys.executable).parent
    assert env["AIRFLOW__CORE__PARALLELISM"] == str(os.cpu_count())


# --- safeguarding status: non-zero unless our warehouse answers -------------------------------

def test_status_fails_when_the_warehouse_does_not_answer(tmp_path):
    result = run_cli("status", SAFEGUARDING_STATE_DIR=str(tmp_path), SAFEGUARDING_PG_PORT=str(free_port()))
    assert result.returncode == 1, result.stdout
    assert "answers:     no" in result.stdout


def test_status_fails_when_another_postgresql_holds_the_port(settings, tmp_path):
    """The session's server answers on the port, but it is not the one of this state folder."""
    result = run_cli("status", SAFEGUARDING_STATE_DIR=str(tmp_path / "another-checkout"),
                     SAFEGUARDING_PG_PORT=str(settings.connection.port))
    assert result.returncode == 1, result.stdout
    assert "NOT this warehouse" in result.stdout and "another PostgreSQL holds the port" in result.stdout


def test_status_fails_on_a_database_that_is_not_marked_as_the_warehouse(settings):
    other = dataclasses.replace(settings.connection, dbname="postgres")
    result = run_cli("status", SAFEGUARDING_WAREHOUSE_URL=other.url)
    assert result.returncode == 1, result.stdout
    assert "it is database 'postgres'" not in result.stdout  # the URL names it: the name matches
    assert "no 'safeguarding-warehouse' marker" in result.stdout


def test_status_succeeds_on_our_warehouse(settings):
    assert run_cli("start").returncode == 0  # marks the database (as `make run` does)
    result = run_cli("status")
    assert result.returncode == 0, result.stdout
    assert f"answers:     yes: database {settings.connection.dbname}, marked 'safeguarding-warehouse'" \
        in result.stdout
