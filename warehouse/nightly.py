"""The steps of the nightly run, as plain functions the DAG's tasks call.

Keeping the logic here (not in the DAG file) lets the tests call each step
directly, and keeps the DAG file cheap to parse: nothing heavy (dbt, Great
Expectations, pandas) is imported until a task runs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import db, publish, pseudonymisation
from .dbt import run_dbt
from .settings import Settings, load

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


def extract_date_for(logical_date: datetime | None, requested: str | None = None) -> date:
    """Which night's extract a run processes.

    The DAG runs at 02:00 London time on a CronTriggerTimetable, whose logical
    date is the run time itself (there is no data interval). The files dropped
    overnight are dated the previous day, so a run on 23 November processes the
    extract of 22 November. A run can name its date instead (param extract_date),
    which is how a past night is re-run.
    """
    if requested:
        return date.fromisoformat(str(requested))
    if logical_date is None:
        raise ValueError("a run needs a logical date or an explicit extract_date")
    return logical_date.astimezone(LONDON).date() - timedelta(days=1)


def extract(extract_date: date, settings: Settings | None = None) -> list[dict]:
    from extract.nightly import load_night

    settings = settings or load()
    results = load_night(settings, extract_date)
    return [r.__dict__ | {"extract_date": r.extract_date.isoformat()} for r in results]


def validate_raw(extract_date: date, settings: Settings | None = None) -> list[dict]:
    from expectations.validate import run_checkpoint

    settings = settings or load()
    outcomes = run_checkpoint(settings.connection.url, "raw", extract_date=extract_date)
    return [o.__dict__ for o in outcomes]


def build_marts(extract_date: date, settings: Settings | None = None) -> None:
    settings = settings or load()
    conn = db.connect(settings)
    try:
        pseudonymisation.install_key(conn, settings)
    finally:
        conn.close()
    run_dbt(settings, ["build"], extract_date=extract_date.isoformat())


def validate_marts(extract_date: date, settings: Settings | None = None) -> list[dict]:
    from expectations.validate import run_checkpoint

    settings = settings or load()
    outcomes = run_checkpoint(settings.connection.url, "marts", extract_date=extract_date,
                              marts_schema=publish.BUILD_SCHEMA)
    return [o.__dict__ for o in outcomes]


def publish_marts(extract_date: date, settings: Settings | None = None) -> list[str]:
    settings = settings or load()
    conn = db.connect(settings)
    try:
        return publish.publish(conn)
    finally:
        conn.close()


STEPS = {
    "extract": extract,
    "validate_raw": validate_raw,
    "build_marts": build_marts,
    "validate_marts": validate_marts,
    "publish": publish_marts,
}


def run_step(step: str, extract_date: str):
    """Run one step for a DAG task.

    Bad data (a rejected file, a failed quality gate, failing dbt tests) will not
    fix itself on a retry: those fail the task at once, without retries, with the
    reason in the log. Anything else (the database restarting, a lost connection)
    is left to Airflow's retries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from expectations.validate import QualityGateFailed
    from extract.load import RejectedFile
    from extract.nightly import MissingFile

    from .dbt import DbtFailed

    try:
        return STEPS[step](date.fromisoformat(extract_date))
    except (RejectedFile, QualityGateFailed, DbtFailed, publish.NothingToPublish) as exc:
        log.error("%s failed for extract date %s: %s", step, extract_date, exc)
        raise AirflowFailException(f"{step} failed for extract date {extract_date}: {exc}") from exc
    except MissingFile:
        raise  # files can still arrive: retry
