"""DAG validity: every DAG imports cleanly, fast, without touching a database, and is configured as operators expect."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from extract.feeds import FEEDS
from warehouse.settings import DAGS_DIR, PROJECT_ROOT

DAG_IDS = {"safeguarding_nightly", "safeguarding_partnership_refresh", "safeguarding_returns"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def parse_in_subprocess(extra_env: dict[str, str], tmp_path: Path) -> dict:
    """Parse the DAG folder in a fresh interpreter with no usable metadata DB or warehouse.

    Airflow's metadata DB points at a folder that does not exist, and the warehouse at
    a closed port: any database call at parse time would be an import error.
    """
    code = """
import json, sys, time
started = time.perf_counter()
from airflow.models import DagBag
bag = DagBag(dag_folder=sys.argv[1])
heavy = [m for m in ('great_expectations', 'dbt', 'pandas') if m in sys.modules]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "dags": {d: sorted(t.task_id for t in bag.dags[d].tasks) for d in bag.dag_ids},
                  "heavy": heavy, "seconds": time.perf_counter() - started,
                  "dbt_task_args": {t.task_id: {a: getattr(t, a, None) for a in ("env", "vars", "exclude", "full_refresh")}
                                    for d in bag.dag_ids for t in bag.dags[d].tasks if hasattr(t, "base_cmd")}},
                 default=str))
"""
    env = dict(os.environ) | {
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/no/such/folder/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SAFEGUARDING_WAREHOUSE_URL": "postgresql://nobody@127.0.0.1:1/nowhere",
        "SAFEGUARDING_PSEUDONYMISATION_KEY": "parse-test-key-not-a-secret",
        "PYTHONPATH": str(PROJECT_ROOT),
    } | extra_env
    out = subprocess.run([sys.executable, "-c", code, str(DAGS_DIR)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == DAG_IDS


def test_dags_parse_without_a_database_or_heavy_libraries(tmp_path):
    parsed = parse_in_subprocess({}, tmp_path)
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == DAG_IDS
    assert parsed["heavy"] == [], "DAG files must not import dbt, GX or pandas at parse time"


def test_nightly_dag_is_scheduled_and_guarded(dagbag):
    dag = dagbag.dags["safeguarding_nightly"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout == timedelta(hours=4)
    assert dag.timetable.summary == "0 2 * * *"
    for t in dag.tasks:
        assert t.retries >= 1, f"{t.task_id} has no retries"
        assert t.retry_exponential_backoff, f"{t.task_id} retries without backoff"
        assert t.on_failure_callback and t.on_retry_callback, f"{t.task_id} sends no alerts"
    assert dag.on_failure_callback and dag.on_success_callback
    # Write-audit-publish order: nothing reaches BI readers before both gates pass.
    order = ["extract", "apply_retention", "validate_raw", "build_marts", "validate_marts", "publish", "document_marts"]
    for upstream, downstream in zip(order, order[1:]):
        assert upstream in dag.get_task(downstream).upstream_task_ids


def test_one_deferrable_sensor_per_feed_before_extract(dagbag):
    from orchestration.sensors import LandingFileSensor

    dag = dagbag.dags["safeguarding_nightly"]
    sensors = [t for t in dag.tasks if isinstance(t, LandingFileSensor)]
    assert sorted(s.feed_id for s in sensors) == sorted(f.id for f in FEEDS)
    extract = dag.get_task("extract")
    for sensor in sensors:
        assert sensor.task_id == f"wait_for_files.{sensor.feed_id}"
        assert sensor.task_id in extract.upstream_task_ids
        assert "resolve_extract_date" in sensor.upstream_task_ids


def test_publish_updates_the_asset_the_refresh_dag_is_scheduled_on(dagbag):
    from orchestration.shared import PUBLISHED_MARTS

    publish = dagbag.dags["safeguarding_nightly"].get_task("publish")
    assert PUBLISHED_MARTS in publish.outlets
    refresh = dagbag.dags["safeguarding_partnership_refresh"]
    assert list(refresh.timetable.asset_condition.objects) == [PUBLISHED_MARTS]  # on the asset, not the clock
    assert {t.task_id for t in refresh.tasks} == {"refresh_partnership_scorecard", "build_quality_report"}
    assert refresh.max_active_runs == 1


def test_cosmos_mode_renders_one_task_per_model_from_the_manifest(settings, tmp_path):
    """SAFEGUARDING_DBT_TASKS=cosmos: per-model tasks between the key and the marts gate."""
    from warehouse.dbt import dbt_target_dir, run_dbt

    manifest = dbt_target_dir() / "manifest.json"
    if not manifest.exists():  # a fresh clone: write it as `safeguarding run` does in cosmos mode
        run_dbt(settings, ["parse", "--quiet"])
    models = [n["name"] for n in json.loads(manifest.read_text())["nodes"].values()
              if n["resource_type"] == "model"]
    parsed = parse_in_subprocess({"SAFEGUARDING_DBT_TASKS": "cosmos"}, tmp_path)
    assert parsed["errors"] == {}
    tasks = parsed["dags"]["safeguarding_nightly"]
    assert "install_pseudonymisation_key" in tasks and "build_marts" not in tasks
    assert {f"build_marts.{m}_model_build" for m in models} <= set(tasks)
    # The snapshots are a step of their own, which leaves them out of a backfill (pipeline/nightly.py).
    assert "snapshot_history" in tasks and not [t for t in tasks if "snp_" in t]
    assert parsed["heavy"] == []
    # As the single build task: the night's date in the environment (not --vars, which would cost
    # each task a full parse), no unit tests, and the DAG's full_refresh param passed on.
    model_tasks = {task: args for task, args in parsed["dbt_task_args"].items() if task.endswith("_model_build")}
    assert len(model_tasks) == len(models)
    for args in model_tasks.values():
        assert args["env"] == {"SAFEGUARDING_EXTRACT_DATE": "{{ ti.xcom_pull(task_ids='resolve_extract_date') }}"}
        assert not args["vars"]
        assert "resource_type:unit_test" in args["exclude"]
        assert args["full_refresh"] == "{{ params.full_refresh }}"


def test_cosmos_mode_without_a_manifest_is_a_clear_import_error(tmp_path):
    from orchestration.shared import cosmos_dbt_group

    with pytest.raises(FileNotFoundError, match="safeguarding dbt parse"):
        cosmos_dbt_group("build_marts", "2026-11-01", manifest_path=tmp_path / "missing" / "manifest.json")


def test_alerts_say_which_task_failed_and_why():
    from orchestration.notify import alert_from_context, alert_text

    class TI:
        task_id, try_number = "validate_raw", 1

    class Run:
        dag_id, run_id, logical_date, conf = "safeguarding_nightly", "scheduled__x", "2026-11-23", {}

    alert = alert_from_context("failed", {"ti": TI(), "task": object(), "dag_run": Run(),
                                          "exception": RuntimeError("missing_type: 3 offending rows")})
    subject, body = alert_text(alert)
    assert subject == "[safeguarding] safeguarding_nightly: task validate_raw failed"
    assert "missing_type: 3 offending rows" in body


def test_extract_date_is_the_day_before_the_run_in_london():
    from pipeline.nightly import extract_date_for

    london = ZoneInfo("Europe/London")
    # 02:00 BST on 30 March is 01:00 UTC: still the 30th in London.
    assert str(extract_date_for(datetime(2026, 3, 30, 1, 0, tzinfo=ZoneInfo("UTC")))) == "2026-03-29"
    assert str(extract_date_for(datetime(2026, 11, 23, 2, 0, tzinfo=london))) == "2026-11-22"
    assert str(extract_date_for(datetime(2026, 11, 23, 2, 0, tzinfo=london), "2026-10-01")) == "2026-10-01"
