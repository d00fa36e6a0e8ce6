"""DAG validity: every DAG imports cleanly, fast, and is configured as operators expect."""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warehouse.settings import DAGS_DIR


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "safeguarding_nightly" in dagbag.dag_ids


def test_nightly_dag_is_scheduled_and_guarded(dagbag):
    dag = dagbag.dags["safeguarding_nightly"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout == timedelta(hours=4)
    assert dag.timetable.summary == "0 2 * * *"
    for t in dag.tasks:
        assert t.retries >= 1, f"{t.task_id} has no retries"
    # Write-audit-publish order: nothing reaches BI readers before both gates pass.
    order = ["extract", "validate_raw", "build_marts", "validate_marts", "publish"]
    for upstream, downstream in zip(order, order[1:]):
        assert upstream in dag.get_task(downstream).upstream_task_ids


def test_dag_file_parses_without_importing_heavy_libraries():
    """Parse time matters: the scheduler re-parses DAG files every few minutes."""
    import subprocess
    import sys

    code = (
        "import sys, runpy, time; t = time.perf_counter();"
        f"runpy.run_path({str(DAGS_DIR / 'safeguarding_nightly.py')!r});"
        "heavy = [m for m in ('great_expectations', 'dbt', 'pandas') if m in sys.modules];"
        "print(heavy, round(time.perf_counter() - t, 2))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("[]"), out


def test_extract_date_is_the_day_before_the_run_in_london():
    from warehouse.nightly import extract_date_for

    london = ZoneInfo("Europe/London")
    # 02:00 BST on 30 March is 01:00 UTC: still the 30th in London.
    assert str(extract_date_for(datetime(2026, 3, 30, 1, 0, tzinfo=ZoneInfo("UTC")))) == "2026-03-29"
    assert str(extract_date_for(datetime(2026, 11, 23, 2, 0, tzinfo=london))) == "2026-11-22"
    assert str(extract_date_for(datetime(2026, 11, 23, 2, 0, tzinfo=london), "2026-10-01")) == "2026-10-01"
