"""The nightly safeguarding pipeline: extract -> validate raw -> dbt build -> validate marts -> publish.

Thin on purpose: each task calls one function in warehouse/nightly.py, where the
logic lives and is tested. Nothing heavy is imported at parse time.

Schedule: 02:00 Europe/London every day. With CronTriggerTimetable the logical
date is the run time, and the run processes the previous day's extract (see
warehouse.nightly.extract_date_for). To re-run a past night:
    airflow dags trigger safeguarding_nightly --conf '{"extract_date": "2026-11-01"}'
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, chain, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

# The steps, in order; each is a function in warehouse/nightly.py (STEPS there).
STEPS = ("extract", "validate_raw", "build_marts", "validate_marts", "publish")

DEFAULT_ARGS = {
    "owner": "children-services-data",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


@dag(
    dag_id="safeguarding_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=4),
    default_args=DEFAULT_ARGS,
    params={
        "extract_date": Param(
            None, type=["null", "string"], format="date",
            description="Extract date to process (YYYY-MM-DD). Empty: the day before the run.",
        ),
    },
    tags=["safeguarding", "nightly"],
    doc_md=__doc__,
)
def safeguarding_nightly():
    @task
    def resolve_extract_date(params: dict, logical_date=None) -> str:
        from warehouse.nightly import extract_date_for

        return extract_date_for(logical_date, params.get("extract_date")).isoformat()

    def step(name: str):
        """A task that runs one step of warehouse.nightly for the night's extract date."""

        @task(task_id=name)
        def run(extract_date: str):
            from warehouse.nightly import run_step

            return run_step(name, extract_date)

        return run

    extract_date = resolve_extract_date()
    chain(*(step(name)(extract_date) for name in STEPS))


safeguarding_nightly()
