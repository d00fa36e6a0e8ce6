"""Statutory returns -> validate raw -> dbt -> validate marts -> publish: marts from the returns a council already makes.

For a council that can hand over its SSDA903, CIN census or Annex A files before
(or instead of) a nightly extract. Triggered by hand, with the folder and the
collection year; the run builds the marts as at 31 March of that year. Thin on
purpose: the tasks are the nightly DAG's steps (pipeline/nightly.py), with
``import_returns`` (extract/returns/) in place of the wait for files and extract.

    safeguarding import-returns path/to/returns --year 2018
    airflow dags trigger safeguarding_returns --conf '{"folder": "/data/returns/2018", "year": 2018}'

It builds into the same marts_build schema as the nightly DAG: the database lets one build hold it
at a time (publication/builds.py), so a run that finds the other building waits (its build_marts
task retries) rather than mixing the two. Docs: docs/returns.md.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag, task

from orchestration.notify import on_run_failure, on_run_success
from orchestration.shared import PUBLISHED_MARTS, RUN_TIMEOUT, START_DATE, default_args


@dag(
    dag_id="safeguarding_returns",
    schedule=None,  # by hand: a council hands over a year's returns
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=default_args(),
    on_failure_callback=[on_run_failure],
    on_success_callback=[on_run_success],
    params={
        "folder": Param("", type="string", minLength=1,
                        description="Folder holding the returns: 903 CSVs or XML, CIN census XML, Annex A workbook."),
        "year": Param(2025, type="integer", minimum=2000, maximum=2100,
                      description="Collection year: the returns count to 31 March of this year."),
    },
    tags=["safeguarding", "returns"],
    doc_md=__doc__,
)
def safeguarding_returns():
    @task
    def resolve_extract_date(params: dict) -> str:
        from extract.returns import collection_date

        return collection_date(int(params["year"])).isoformat()

    def step(name: str, **task_kwargs):
        @task(task_id=name, **task_kwargs)
        def run(extract_date: str):
            from pipeline.nightly import run_step

            return run_step(name, extract_date)

        return run

    @task(task_id="import_returns")
    def import_returns(extract_date: str, params: dict):
        from pipeline.nightly import run_step

        return run_step("import_returns", extract_date, folder=params["folder"])

    extract_date = resolve_extract_date()
    chain(import_returns(extract_date), step("validate_raw")(extract_date), step("build_marts")(extract_date),
          step("validate_marts")(extract_date), step("publish", outlets=[PUBLISHED_MARTS])(extract_date),
          step("document_marts")(extract_date))


safeguarding_returns()
