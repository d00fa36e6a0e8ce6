"""The nightly safeguarding pipeline: wait for files -> extract -> retention -> validate raw -> dbt -> validate marts -> publish.

Thin on purpose: each task calls one function in warehouse/ (nightly.py, sensors.py,
orchestration.py), where the logic lives and is tested. Nothing heavy is imported
at parse time, and nothing touches a database.

Schedule: 02:00 Europe/London every day. With CronTriggerTimetable the logical
date is the run time, and the run processes the previous day's extract (see
pipeline.nightly.extract_date_for). Publishing updates the Asset
``safeguarding_published_marts``; the ``safeguarding_partnership_refresh`` DAG
runs on it. Operators' guide (re-run, backfill, alerts): docs/operations.md.
    airflow dags trigger safeguarding_nightly --conf '{"extract_date": "2026-11-01"}'
    airflow dags trigger safeguarding_nightly --conf '{"full_refresh": true}'   # recompute every memo
"""

from __future__ import annotations

from airflow.sdk import Param, TaskGroup, chain, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from extract.feeds import FEEDS
from orchestration.notify import on_run_failure, on_run_success
from orchestration.shared import (PUBLISHED_MARTS, RUN_TIMEOUT, START_DATE, cosmos_dbt_group, dbt_task_mode,
                                  default_args)
from orchestration.sensors import LandingFileSensor

EXTRACT_DATE = "{{ ti.xcom_pull(task_ids='resolve_extract_date') }}"


@dag(
    dag_id="safeguarding_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # one night at a time; the database holds one build at a time across DAGs (builds.py)
    dagrun_timeout=RUN_TIMEOUT,
    default_args=default_args(),
    on_failure_callback=[on_run_failure],
    on_success_callback=[on_run_success],
    params={
        "extract_date": Param(
            None, type=["null", "string"], format="date",
            description="Extract date to process (YYYY-MM-DD). Empty: the day before the run.",
        ),
        "full_refresh": Param(
            False, type="boolean",
            description="Rebuild with dbt --full-refresh: recompute every memoised rule instead of only the new "
                        "or changed rows (docs/marts.md, \"Incremental build\").",
        ),
    },
    tags=["safeguarding", "nightly"],
    doc_md=__doc__,
)
def safeguarding_nightly():
    @task
    def resolve_extract_date(params: dict, logical_date=None) -> str:
        from pipeline.nightly import extract_date_for

        return extract_date_for(logical_date, params.get("extract_date")).isoformat()

    def step(name: str, **task_kwargs):
        """A task that runs one step of pipeline.nightly for the night's extract date."""

        @task(task_id=name, **task_kwargs)
        def run(extract_date: str, params: dict | None = None):
            from pipeline.nightly import run_step

            if name == "build_marts":
                return run_step(name, extract_date, full_refresh=bool((params or {}).get("full_refresh")))
            return run_step(name, extract_date)

        return run

    extract_date = resolve_extract_date()

    # One deferrable sensor per feed: a late file fails its own task, named after the feed.
    with TaskGroup("wait_for_files", tooltip="one sensor per feed's file for the night") as wait_for_files:
        for feed in FEEDS:
            LandingFileSensor(task_id=feed.id, feed_id=feed.id, extract_date=EXTRACT_DATE)
    extract_date >> wait_for_files

    loaded = step("extract")(extract_date)
    wait_for_files >> loaded
    # Person-level rows past their retention go before anything is checked or built (pipeline/retention.py).
    retained = step("apply_retention")(extract_date)
    checked_raw = step("validate_raw")(extract_date)

    if dbt_task_mode() == "cosmos":
        # The run claims marts_build first (one build at a time, publication/builds.py); the key pads
        # must be in place before any model that pseudonymises runs; the snapshots run after the
        # models they read, and not for a backfill (pipeline/nightly.py).
        built = [step("claim_build")(extract_date), step("install_pseudonymisation_key")(extract_date),
                 cosmos_dbt_group("build_marts", EXTRACT_DATE), step("snapshot_history")(extract_date)]
    else:
        built = [step("build_marts")(extract_date)]

    # Write-audit-publish: nothing reaches BI readers before both gates pass. dbt's docs site is
    # written after publication, of the marts as published: a failure there is the DAG's (alerted)
    # but cannot hold back marts that passed their gates.
    chain(loaded, retained, checked_raw, *built, step("validate_marts")(extract_date),
          step("publish", outlets=[PUBLISHED_MARTS])(extract_date), step("document_marts")(extract_date))


safeguarding_nightly()
