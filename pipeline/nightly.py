"""The steps of the nightly run, as plain functions the DAG's tasks call.

Keeping the logic here (not in the DAG file) lets the tests call each step
directly, and keeps the DAG file cheap to parse: nothing heavy (dbt, Great
Expectations, pandas) is imported until a task runs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from publication import builds, publish
from warehouse import db, dq, pseudonymisation
from warehouse.dbt import DbtFailed, dbt_target_dir, run_dbt
from warehouse.roles import SNAPSHOTS
from warehouse.settings import Settings, load

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


def hold_back_night(settings, *, run_id: str, extract_date: date, stage: str, reason: BaseException) -> None:
    """Record that a night was held back (and why), and build the quality report that shows it.

    Called by a failing step before it re-raises: the evidence must exist even when the
    DAG run fails. Never raises itself; a problem here is logged, so the step's own
    error stays the one that fails the task.
    """
    try:
        conn = db.connect(settings)
        try:
            dq.record_night(conn, run_id=run_id, extract_date=extract_date, status=dq.HELD_BACK, stage=stage,
                            message=str(reason)[:4000])
        finally:
            conn.close()
        from expectations.quality_report import build_quality_report

        path = build_quality_report(settings, extract_date=extract_date)
        log.error("Night %s held back at %s. Quality report: %s", extract_date, stage, path)
    except Exception:  # noqa: BLE001 - the step's own error must stay the one that fails the task
        log.exception("could not record that night %s was held back", extract_date)


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
    from extract.load import RejectedFile
    from extract.load_night import load_night

    settings = settings or load()
    recover_after_crash(extract_date, settings)
    try:
        results = load_night(settings, extract_date)
    except RejectedFile as exc:
        hold_back_night(settings, run_id=dq.current_run_id(extract_date), extract_date=extract_date,
                     stage="extract", reason=exc)
        raise
    return [r.__dict__ | {"extract_date": r.extract_date.isoformat()} for r in results]


def recover_after_crash(extract_date: date, settings: Settings) -> None:
    """Before loading: finish off loads a crash left behind (extract/recovery.py), in the log and in dq."""
    from extract.recovery import recover_interrupted_loads

    conn = db.connect(settings)
    try:
        recovered = recover_interrupted_loads(conn)
        dq.record_recoveries(conn, run_id=dq.current_run_id(extract_date), extract_date=extract_date,
                             recovered=recovered)
    finally:
        conn.close()


def import_returns(extract_date: date, folder: str, settings: Settings | None = None) -> list[dict]:
    """Load a folder of statutory returns for the collection year ending on ``extract_date`` (31 March)."""
    from extract.load import RejectedFile
    from extract.load_night import MissingFile
    from extract.returns import collection_date
    from extract.returns.importer import import_returns as load_returns

    settings = settings or load()
    if extract_date != collection_date(extract_date.year):
        raise ValueError(f"returns are imported as at 31 March of their collection year, not {extract_date}")
    recover_after_crash(extract_date, settings)
    try:
        try:
            result = load_returns(settings, folder, extract_date.year)
        except MissingFile as exc:  # a wrong folder will not fix itself on a retry (unlike a late nightly file)
            raise RejectedFile(str(exc)) from exc
    except RejectedFile as exc:
        hold_back_night(settings, run_id=dq.current_run_id(extract_date), extract_date=extract_date,
                     stage="import_returns", reason=exc)
        raise
    for line in result.summary():
        log.info("%s", line)
    return [r.__dict__ | {"extract_date": r.extract_date.isoformat()} for r in result.loaded + result.derived]


def validate_raw(extract_date: date, settings: Settings | None = None, run_id: str | None = None) -> list[dict]:
    return _quality_gate("raw", extract_date, settings or load(), run_id)


def install_pseudonymisation_key(extract_date: date, settings: Settings | None = None) -> None:
    """The key's HMAC pads, which dbt's pseudonymise() macro reads: before any model runs."""
    settings = settings or load()
    conn = db.connect(settings)
    try:
        pseudonymisation.install_key(conn, settings)
    finally:
        conn.close()


# dbt's unit tests pin the statutory rules on hand-made rows: they do not depend on the night's
# data, so the nightly build leaves them out (dbt recommends running them in development and CI;
# pytest runs every one of them: tests/test_dbt_incremental.py).
NIGHTLY_DBT_BUILD = ["build", "--exclude-resource-type", "unit_test"]


def claim_build(extract_date: date, settings: Settings | None = None, run_id: str | None = None) -> str:
    """Claim marts_build for this run's build (publication/builds.py): one build at a time, across
    the nightly and returns DAGs. Raises BuildInProgress (retried) while another run holds it."""
    settings = settings or load()
    run_id = run_id or dq.current_run_id(extract_date)
    conn = db.connect(settings)
    try:
        build = builds.claim_build(conn, run_id=run_id, extract_date=extract_date)
        dq.record_night(conn, run_id=run_id, extract_date=extract_date, status=dq.RUNNING, stage="build_marts")
    finally:
        conn.close()
    return build.build_id


def _end_claim(settings: Settings, run_id: str, reason: BaseException) -> None:
    conn = db.connect(settings)
    try:
        builds.hold_back(conn, run_id, str(reason))
    finally:
        conn.close()


def build_marts(extract_date: date, settings: Settings | None = None, full_refresh: bool = False,
                run_id: str | None = None) -> None:
    """`dbt build` for the night, into marts_build once this run has claimed it (claim_build).
    The memo models keep their results between nights and compute
    only new or changed rows (docs/marts.md, "Incremental build"); ``full_refresh`` recomputes
    everything (after a change the fingerprint cannot see, or to be sure). A night older than
    the snapshots' history (a backfill) is built without them (snapshots_left_out)."""
    settings = settings or load()
    run_id = run_id or dq.current_run_id(extract_date)
    claim_build(extract_date, settings, run_id)
    install_pseudonymisation_key(extract_date, settings)
    try:
        run_dbt(settings, NIGHTLY_DBT_BUILD + (["--full-refresh"] if full_refresh else [])
                + snapshots_left_out(extract_date, settings), extract_date=extract_date.isoformat())
    except DbtFailed as exc:
        record_dbt_results(extract_date, settings, run_id)
        _end_claim(settings, run_id, exc)  # a failed build will not be validated: the next run may build
        hold_back_night(settings, run_id=run_id, extract_date=extract_date, stage="build_marts", reason=exc)
        raise
    record_dbt_results(extract_date, settings, run_id)


def record_dbt_results(extract_date: date, settings: Settings, run_id: str | None = None) -> None:
    """dbt's results of the build (every model and data test, warn-level ones included) into
    dq.dbt_results, for auditors and the quality report (expectations/dbt_results.py). Never raises:
    the build's own outcome decides the task's."""
    from expectations import dbt_results

    try:
        conn = db.connect(settings)
        try:
            counts = dbt_results.record(conn, run_id=run_id or dq.current_run_id(extract_date), extract_date=extract_date,
                                        target=dbt_target_dir())
        finally:
            conn.close()
        log.info("dbt results recorded in dq.dbt_results: %s", counts)
    except Exception:  # noqa: BLE001
        log.exception("could not record dbt's results for %s in dq.dbt_results", extract_date)


def latest_snapshot_night(settings: Settings) -> date | None:
    """The latest night the snapshots hold (the start or end of a version), None before the first."""
    from psycopg2 import sql

    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("select table_name from information_schema.columns "
                        "where table_schema = %s and column_name = 'dbt_valid_from'", (SNAPSHOTS,))
            nights = []
            for (table,) in cur.fetchall():
                cur.execute(sql.SQL("select max(greatest(dbt_valid_from, dbt_valid_to))::date from {}")
                            .format(sql.Identifier(SNAPSHOTS, table)))
                nights.append(cur.fetchone()[0])
    finally:
        conn.close()
    return max((n for n in nights if n is not None), default=None)


def snapshots_left_out(extract_date: date, settings: Settings) -> list[str]:
    """dbt arguments that leave the snapshots out of a night older than the history they hold.

    Snapshots record history night after night, in date order: snapshotting an older night after
    a newer one would record the old values as changes made after the newer night's, and the
    snapshots refuse it (macros/snapshots.sql, guard_snapshot_history). So a backfill (or a
    statutory return's 31 March) builds the marts as usual, without the snapshots; re-running
    the latest night snapshots it again, which changes nothing."""
    latest = latest_snapshot_night(settings)
    if latest is None or extract_date >= latest:
        return []
    log.warning("Snapshots left out for %s: they already hold history up to %s, and nights are snapshotted "
                "in date order (docs/marts.md, \"As at a date\"). The marts are built as usual.", extract_date, latest)
    return ["--exclude", "resource_type:snapshot"]


def snapshot_history(extract_date: date, settings: Settings | None = None) -> bool:
    """`dbt snapshot` for the night, with SAFEGUARDING_DBT_TASKS=cosmos (the single `dbt build`
    runs the snapshots itself). The per-model tasks leave the snapshots out, as a task group's
    shape is fixed before the night's date is known; this step runs them after the staging
    models they read are built, unless the night is older than their history. False when left out."""
    settings = settings or load()
    if snapshots_left_out(extract_date, settings):
        return False
    try:
        run_dbt(settings, ["snapshot"], extract_date=extract_date.isoformat())
    except DbtFailed as exc:
        hold_back_night(settings, run_id=dq.current_run_id(extract_date), extract_date=extract_date,
                     stage="snapshot_history", reason=exc)
        raise
    return True


def validate_marts(extract_date: date, settings: Settings | None = None, run_id: str | None = None) -> list[dict]:
    return _quality_gate("marts", extract_date, settings or load(), run_id)


def _quality_gate(group: str, extract_date: date, settings: Settings, run_id: str | None) -> list[dict]:
    """Run a group's checkpoint; its results go to the dq schema. A failed gate holds the night back."""
    from expectations.validate import QualityGateFailed, run_checkpoint

    run_id = run_id or dq.current_run_id(extract_date)
    stage = f"validate_{group}"
    build, checked = None, None
    conn = db.connect(settings)
    try:
        dq.record_night(conn, run_id=run_id, extract_date=extract_date, status=dq.RUNNING, stage=stage)
        if group == "marts":  # only this run's build, and exactly what is there now (publication/builds.py)
            try:
                build = builds.this_runs_build(conn, run_id)
            except builds.BuildRefused as exc:
                hold_back_night(settings, run_id=run_id, extract_date=extract_date, stage=stage, reason=exc)
                raise
            checked = builds.current_fingerprint(conn)
            # The night's conservation table (rows in = rows out + exclusions), kept before the gate
            # runs so a night held back has it too; the gate's critical checks test the same figures.
            from expectations.conservation import record as record_conservation

            record_conservation(conn, run_id=run_id, extract_date=extract_date, schema=publish.BUILD_SCHEMA)
    finally:
        conn.close()
    try:
        outcomes = run_checkpoint(settings.connection.url, group, extract_date=extract_date,
                                  marts_schema=publish.BUILD_SCHEMA, run_id=run_id)
    except QualityGateFailed as exc:
        if build is not None:
            _record_gate(settings, build, passed=False, checked=checked, message=str(exc))
        hold_back_night(settings, run_id=run_id, extract_date=extract_date, stage=stage, reason=exc)
        raise
    if build is not None:
        try:
            _record_gate(settings, build, passed=True, checked=checked)
        except builds.BuildRefused as exc:
            hold_back_night(settings, run_id=run_id, extract_date=extract_date, stage=stage, reason=exc)
            raise
    return [o.__dict__ for o in outcomes]


def _record_gate(settings: Settings, build: "builds.Build", **verdict) -> None:
    conn = db.connect(settings)
    try:
        builds.record_gate(conn, build, **verdict)
    finally:
        conn.close()


def publish_marts(extract_date: date, settings: Settings | None = None, run_id: str | None = None) -> list[str]:
    """Publish the validated build. A night with failed warnings is published, flagged.

    The flag travels with the marts: ``marts.publication`` (extract date, status,
    warnings) is written into the build schema just before the swap, so BI readers
    see which night they read and whether it carries warnings.
    """
    from expectations.quality_report import build_quality_report, report_path

    settings = settings or load()
    run_id = run_id or dq.current_run_id(extract_date)
    conn = db.connect(settings)
    try:
        warnings = dq.warnings_for_run(conn, run_id)
        status = dq.PUBLISHED_WITH_WARNINGS if warnings else dq.PUBLISHED

        def publication_record(cur) -> None:
            dq.write_publication_record(cur, publish.BUILD_SCHEMA, extract_date=extract_date, run_id=run_id,
                                        status=status, warnings=warnings,
                                        quality_report=str(report_path(settings, extract_date)))

        # Publishing checks, in its own transaction, that this run's build passed its gate and is
        # unchanged since (publication/builds.py): a hand-run step or a concurrent build is refused.
        try:
            tables = publish.publish(conn, run_id=run_id, before_swap=publication_record)
        except builds.AlreadyPublished as exc:  # a retry after the publication committed
            conn.rollback()
            log.info("%s", exc)
            return publish.published_tables(conn)
        except builds.BuildChangedAfterGate as exc:  # this run's build is no longer what passed: held back
            builds.mark_changed(conn, exc.build_id, str(exc))
            hold_back_night(settings, run_id=run_id, extract_date=extract_date, stage="publish", reason=exc)
            raise
        except builds.BuildRefused:  # nothing of this run to publish: what dq says of the run stays true
            conn.rollback()
            raise
        dq.record_night(conn, run_id=run_id, extract_date=extract_date, status=status, stage="publish")
    finally:
        conn.close()
    if warnings:
        log.warning("Night %s published WITH %d warning(s): marts.publication is flagged", extract_date, warnings)
    try:
        log.info("Quality report: %s", build_quality_report(settings, extract_date=extract_date))
    except Exception:  # noqa: BLE001 - the marts are published; a report problem must not fail that
        log.exception("could not build the quality report for %s", extract_date)
    return tables


def document_marts(extract_date: date, settings: Settings | None = None) -> str:
    """dbt's docs site of the published marts: every model, source and column with its
    description, and the column types from the database (`dbt docs generate --static`: one
    self-contained page, `static_index.html`, that opens from the file system).

    After publication, so the site describes the marts in `marts`, the schema analysts query
    (macro generate_schema_name). The project is compiled again (dbt 1.11's `--static` needs the
    compiled manifest, so `--no-compile` fails); the database is not written. Its own target
    folder keeps a partial-parse cache of its own: the schema setting differs from the build's,
    and sharing one cache would make each of them parse the whole project."""
    settings = settings or load()
    docs_dir = settings.dbt_docs_dir
    run_dbt(settings, ["docs", "generate", "--static", "--target-path", str(docs_dir)],
            extract_date=extract_date.isoformat(), extra_env={"SAFEGUARDING_DOCS_OF_PUBLISHED": "1"})
    site = docs_dir / "static_index.html"
    log.info("dbt docs site of the marts published for %s: %s", extract_date, site)
    return str(site)  # the task's XCom: a Path cannot be serialised, and the task would fail


# The role each step connects as (warehouse/audiences.yml, pipeline): the loader writes the raw
# zone, the transformer everything after it. The superuser is never used by a step.
LOADER_STEPS = frozenset({"extract", "import_returns"})
RETENTION_STEP = "apply_retention"  # connects as the owner of each zone it trims (pipeline/retention.py)


def step_settings(step: str, settings: Settings | None = None) -> Settings:
    """The settings a DAG task's step runs with: connecting as the step's own role."""
    from warehouse.audiences import declaration

    settings = settings or load()
    if step == RETENTION_STEP:
        return settings
    pipeline = declaration().pipeline
    return settings.as_role((pipeline["loader"] if step in LOADER_STEPS else pipeline["transformer"]).name)


def apply_retention(extract_date: date, settings: Settings | None = None) -> list[dict]:
    """Remove or degrade person-level rows older than each dataset's setting (pipeline/retention.py)."""
    from .retention import apply_retention as apply

    applied = apply(settings or load(), extract_date, as_roles=True)
    return [r.__dict__ | {"cutoff": r.cutoff.isoformat()} for r in applied]


STEPS = {
    "claim_build": claim_build,  # with SAFEGUARDING_DBT_TASKS=cosmos (build_marts claims by itself)
    "extract": extract,
    RETENTION_STEP: apply_retention,
    "import_returns": import_returns,  # the safeguarding_returns DAG, instead of extract
    "validate_raw": validate_raw,
    "install_pseudonymisation_key": install_pseudonymisation_key,  # with SAFEGUARDING_DBT_TASKS=cosmos
    "build_marts": build_marts,
    "snapshot_history": snapshot_history,  # with SAFEGUARDING_DBT_TASKS=cosmos
    "validate_marts": validate_marts,
    "publish": publish_marts,
    "document_marts": document_marts,
}


def run_step(step: str, extract_date: str, **kwargs):
    """Run one step for a DAG task.

    Bad data (a rejected file, a failed quality gate, failing dbt tests) will not
    fix itself on a retry: those fail the task at once, without retries, with the
    reason in the log. Anything else (the database restarting, a lost connection)
    is left to Airflow's retries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from expectations.validate import QualityGateFailed
    from extract.load import RejectedFile
    from extract.load_night import MissingFile

    from warehouse.dbt import DbtFailed

    try:
        return STEPS[step](date.fromisoformat(extract_date), settings=step_settings(step), **kwargs)
    except (RejectedFile, QualityGateFailed, DbtFailed, publish.NothingToPublish, builds.BuildRefused) as exc:
        log.error("%s failed for extract date %s: %s", step, extract_date, exc)
        raise AirflowFailException(f"{step} failed for extract date {extract_date}: {exc}") from exc
    except MissingFile:
        raise  # files can still arrive: retry
