"""After each publication: refresh the partnership scorecard and build the quality report.

Scheduled on the Asset ``safeguarding_published_marts``, which the nightly DAG's
publish task updates: this DAG runs when (and only when) new marts are
published, not on the clock. Logic: pipeline/partnership_refresh.py.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from orchestration.notify import on_run_failure, on_run_success
from orchestration.shared import PUBLISHED_MARTS, START_DATE, default_args


@dag(
    dag_id="safeguarding_partnership_refresh",
    schedule=[PUBLISHED_MARTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(),
    on_failure_callback=[on_run_failure],
    on_success_callback=[on_run_success],
    tags=["safeguarding", "partnership"],
    doc_md=__doc__,
)
def safeguarding_partnership_refresh():
    @task
    def refresh_partnership_scorecard():
        from pipeline.partnership_refresh import refresh_partnership_scorecard

        return refresh_partnership_scorecard()

    @task
    def build_quality_report():
        from pipeline.partnership_refresh import build_quality_report_if_available

        report = build_quality_report_if_available()
        return None if report is None else str(report)

    refresh_partnership_scorecard()
    build_quality_report()


safeguarding_partnership_refresh()
