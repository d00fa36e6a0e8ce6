"""What the DAG files share: the published-marts Asset, retry policy, alerts, and how dbt runs.

Kept here so the DAG files stay a page long and the rules live in one place.
Everything in this module is cheap to import: the scheduler parses DAG files every
few minutes, so nothing here touches a database, dbt or Great Expectations at
import time (tests/test_dag.py checks).

How dbt runs in the nightly DAG, chosen by ``SAFEGUARDING_DBT_TASKS``
(docs/operations.md has the measurements behind the default):

* ``single`` (default): one ``build_marts`` task runs ``dbt build`` (every model,
  its data tests and unit tests) in one process. Fastest in Airflow's local mode
  (`airflow dags test` runs tasks one after another).
* ``cosmos``: astronomer-cosmos renders one task per model *with its tests*
  (``dbt build --select <model>``), loaded from dbt's manifest
  (``dbt_project/target/manifest.json``, written by ``safeguarding dbt parse``), so
  parsing the DAG never runs dbt. Use it with a real scheduler and several
  workers: a failing model shows (and is retried) as its own task, and independent
  models run in parallel. A missing manifest is an import error that says how to
  make it: the DAG never silently changes shape.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset

from publication.builds import RUN_TIMEOUT  # noqa: F401 - the DAGs' dagrun_timeout, which a build claim's lease follows
from warehouse.dbt import EXTRACT_DATE_ENV, dbt_executable, dbt_target_dir
from warehouse.settings import DBT_PROJECT_DIR

from .notify import on_task_failure, on_task_retry

# Published by the nightly DAG's publish task; the partnership refresh DAG is scheduled on it.
PUBLISHED_MARTS = Asset(name="safeguarding_published_marts", uri="safeguarding://warehouse/marts",
                        group="safeguarding")

# Every DAG's start_date. Airflow creates no task for a run whose logical date is before it, so a
# backfill of last year (or of a statutory return's 31 March) would "succeed" with nothing run.
# With catchup=False an early start date schedules nothing extra: it only lets past dates run.
# 2000 is the earliest collection year the returns DAG accepts.
START_DATE = pendulum.datetime(2000, 1, 1, tz="Europe/London")

DBT_TASKS_SETTING = "SAFEGUARDING_DBT_TASKS"
DBT_TASK_MODES = ("single", "cosmos")
RETRY_DELAY_SETTING = "SAFEGUARDING_RETRY_DELAY_SECONDS"
MANIFEST_PATH = dbt_target_dir() / "manifest.json"
# The Airflow connection cosmos builds dbt's profile from (AIRFLOW_CONN_SAFEGUARDING_WAREHOUSE).
WAREHOUSE_CONN_ID = "safeguarding_warehouse"


def dbt_task_mode(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    mode = env.get(DBT_TASKS_SETTING, "single").strip().lower() or "single"
    if mode not in DBT_TASK_MODES:
        raise ValueError(f"{DBT_TASKS_SETTING} must be one of {', '.join(DBT_TASK_MODES)}, got {mode!r}")
    return mode


def default_args(environ: dict[str, str] | None = None) -> dict:
    """Retries with exponential backoff, and an alert on every retry and every failure.

    Data errors (a rejected file, a failed quality gate) fail at once without
    retries (pipeline.nightly.run_step); the retries are for what can fix itself:
    a late file, the database restarting, a lost connection.
    """
    env = os.environ if environ is None else environ
    delay = timedelta(seconds=float(env.get(RETRY_DELAY_SETTING, "300")))
    return {
        "owner": "children-services-data",
        "retries": 2,
        "retry_delay": delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max(delay, timedelta(minutes=30)),
        "on_failure_callback": [on_task_failure],
        "on_retry_callback": [on_task_retry],
    }


def cosmos_dbt_group(group_id: str, extract_date_template: str, manifest_path: Path = MANIFEST_PATH):
    """One task per dbt model with its tests (cosmos, TestBehavior.BUILD), from the manifest."""
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"{DBT_TASKS_SETTING}=cosmos needs dbt's manifest at {manifest_path}, and it is missing. "
            "Make it with `safeguarding dbt parse` (the deployment's build step), or set "
            f"{DBT_TASKS_SETTING}=single to run dbt as one task."
        )
    from cosmos import (DbtTaskGroup, ExecutionConfig, ExecutionMode, LoadMode, ProfileConfig, ProjectConfig,
                        RenderConfig)
    from cosmos.constants import TestBehavior, TestIndirectSelection
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=manifest_path,
                                     install_dbt_deps=False),
        profile_config=ProfileConfig(
            profile_name="safeguarding", target_name="warehouse",
            profile_mapping=PostgresUserPasswordProfileMapping(conn_id=WAREHOUSE_CONN_ID,
                                                               profile_args={"schema": "analytics"}),
        ),
        # A test with several parents (a relationships test between a mart and a seed) runs as its
        # own task once all its parents are built, not with the first of them (which would fail).
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                         test_indirect_selection=TestIndirectSelection.CAUTIOUS,
                                         dbt_executable_path=dbt_executable()),
        # As the single `dbt build` task (pipeline/nightly.py): unit tests are left out of the
        # nightly (CI runs them all), and the extract date reaches dbt in the environment, not in
        # --vars, which would differ from night to night and make each task parse the whole
        # project again instead of reusing dbt's partial-parse cache.
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                                   should_detach_multiple_parents_tests=True, emit_datasets=False,
                                   # snapshots: the snapshot_history step, which leaves them out of a backfill
                                   exclude=["resource_type:unit_test", "resource_type:snapshot"]),
        operator_args={"env": {EXTRACT_DATE_ENV: extract_date_template}, "install_deps": False,
                       # the DAG's full_refresh param: recompute every memo (docs/marts.md)
                       "full_refresh": "{{ params.full_refresh }}"},
    )
