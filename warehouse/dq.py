"""The `dq` schema: every night's quality evidence, for auditors to query with SQL.

Three tables, written by the nightly run (never edited afterwards):

* ``dq.validation_runs``: one row per checkpoint run (``nightly_raw``,
  ``nightly_marts``) for a night: when, passed or not, how many checks failed.
* ``dq.validation_results``: one row per expectation evaluated in that run:
  suite, expectation, severity, success, observed value, unexpected count and a
  sample of unexpected keys. The sample never holds source values that could
  identify a child: in raw it is the file's row numbers (``_row_number``, the
  data row in the delivered file, see extract/load.py); in marts it is
  pseudonymous keys or codes.
* ``dq.nightly_runs``: one row per pipeline run: the extract date, what became
  of it (``published``, ``published_with_warnings``, ``held_back``), the step
  that stopped it and why.

The view ``dq.night_results`` joins the results to their run, the usual start
for an auditor ("what was checked on 3 November, and what failed?").

Results are written before a failed gate raises, so a night that is held back
has its evidence too. Schema changes here are additive (create if not exists,
add column if not exists): the tables are an audit trail and are never dropped.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any, Iterable

log = logging.getLogger(__name__)

SCHEMA = "dq"
AUDITOR_ROLE = "safeguarding_auditor"
DQ_WRITER = "safeguarding_dq_writer"  # owns the dq tables; the pipeline roles are its members (warehouse/roles.py)

# Night statuses (dq.nightly_runs.status).
RUNNING = "running"
PUBLISHED = "published"
PUBLISHED_WITH_WARNINGS = "published_with_warnings"
HELD_BACK = "held_back"
STATUSES = (RUNNING, PUBLISHED, PUBLISHED_WITH_WARNINGS, HELD_BACK)

# One row per build of the marts (publication/builds.py claims, gates and publishes them).
MARTS_BUILDS_DDL = """
create table if not exists dq.marts_builds (
    build_id      text        primary key default gen_random_uuid()::text,
    run_id        text        not null,
    extract_date  date        not null,
    status        text        not null check (status in ('building', 'validated', 'published', 'held_back',
                                                         'abandoned', 'changed')),
    fingerprint   text,
    message       text,
    started_at    timestamptz not null default now(),
    heartbeat_at  timestamptz not null default now(),
    validated_at  timestamptz,
    finished_at   timestamptz
);
comment on table dq.marts_builds is
    'Every build of the marts: the run that claimed marts_build, whether its quality gate passed (validated, with the fingerprint of what it checked), and whether it was published, held back, abandoned or changed after its gate. At most one build is building or validated at a time.';
create unique index if not exists marts_builds_one_active on dq.marts_builds ((true))
    where status in ('building', 'validated');
"""

PUBLICATION_TABLE = "publication"  # written into the build by the publish step itself (write_publication_record)

DDL = """
-- Only when missing: a pipeline role may use the schema without the right to create schemas.
do $$ begin if not exists (select 1 from pg_namespace where nspname = 'dq') then create schema dq; end if; end $$;
comment on schema dq is
    'Data-quality evidence: what the nightly quality gates checked, what failed, and what was held back.';

create table if not exists dq.nightly_runs (
    run_id             text primary key,
    extract_date       date        not null,
    status             text        not null check (status in ('running', 'published', 'published_with_warnings', 'held_back')),
    stage              text        not null,
    critical_failures  integer     not null default 0,
    warnings           integer     not null default 0,
    message            text,
    started_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    published_at       timestamptz
);
comment on table dq.nightly_runs is
    'One row per nightly pipeline run: its extract date and whether it was published, published with warnings, or held back (and at which step, why).';
create index if not exists nightly_runs_extract_date on dq.nightly_runs (extract_date);

create table if not exists dq.validation_runs (
    validation_run_id  bigserial primary key,
    run_id             text        not null,
    extract_date       date        not null,
    checkpoint         text        not null,
    gx_run_name        text        not null,
    success            boolean     not null,
    suites             integer     not null,
    evaluated          integer     not null,
    critical_failures  integer     not null,
    warnings           integer     not null,
    data_docs          text,
    validated_at       timestamptz not null default now()
);
comment on table dq.validation_runs is
    'One row per Great Expectations checkpoint run (nightly_raw, nightly_marts) for a night. success is false when a critical expectation failed.';
create index if not exists validation_runs_extract_date on dq.validation_runs (extract_date);

create table if not exists dq.validation_results (
    validation_run_id  bigint      not null references dq.validation_runs on delete cascade,
    run_id             text        not null,
    extract_date       date        not null,
    checkpoint         text        not null,
    suite              text        not null,
    expectation        text        not null,
    expectation_type   text        not null,
    column_name        text,
    severity           text        not null check (severity in ('critical', 'warning')),
    success            boolean     not null,
    observed_value     text,
    element_count      bigint,
    unexpected_count   bigint,
    unexpected_percent numeric,
    unexpected_sample  jsonb,
    sample_kind        text,
    exception_message  text,
    arguments          jsonb
);
comment on table dq.validation_results is
    'One row per expectation evaluated per checkpoint run. unexpected_sample holds at most 5 row numbers (raw: the data row in the delivered file) or pseudonymous keys/codes (marts), never identifying source values.';
comment on column dq.validation_results.sample_kind is
    'What unexpected_sample holds: row_number (raw), key (pseudonymous mart keys), value (codes, numbers, dates).';
alter table dq.validation_results add column if not exists why text;
comment on column dq.validation_results.why is
    'Why the check exists, as declared beside it in expectations/suites.py (shown in the quality report).';
create index if not exists validation_results_run on dq.validation_results (validation_run_id);
create index if not exists validation_results_extract_date on dq.validation_results (extract_date, success);

create or replace view dq.night_results as
select vr.extract_date, vr.run_id, vr.checkpoint, vr.validated_at, r.suite, r.expectation, r.severity,
       r.success, r.observed_value, r.unexpected_count, r.unexpected_sample, r.sample_kind, r.exception_message,
       nr.status as night_status
from dq.validation_results r
join dq.validation_runs vr using (validation_run_id)
left join dq.nightly_runs nr on nr.run_id = vr.run_id;
comment on view dq.night_results is
    'Every expectation result with its run and what became of the night: start here to audit a night.';

create table if not exists dq.audience_releases (
    run_id        text        not null,
    extract_date  date        not null,
    audience      text        not null,
    status        text        not null check (status in ('released', 'withheld')),
    views         text[]      not null,
    reason        text,
    released_at   timestamptz not null default now()
);
comment on table dq.audience_releases is
    'What each audience of warehouse/audiences.yml was given at each publication: its views, or withheld and why (the regional pool, when a degrade step failed).';

create table if not exists dq.retention_runs (
    run_id        text        not null,
    extract_date  date        not null,
    dataset       text        not null,
    action        text        not null check (action in ('deleted', 'degraded', 'dropped_batch')),
    rule          text        not null,
    cutoff        date        not null,
    rows_affected bigint      not null,
    applied_at    timestamptz not null default now()
);
comment on table dq.retention_runs is
    'What retention removed or degraded each night (warehouse/audiences.yml, retention): one row per dataset and action, with the cutoff and the number of rows, zero included.';
"""


RECOVERY_DDL = """
create table if not exists dq.recovered_loads (
    run_id              text        not null,
    extract_date        date        not null,
    feed                text        not null,
    batch_id            bigint      not null,
    batch_extract_date  date,
    source_file         text,
    what                text        not null,
    dropped_tables      text[]      not null default '{}',
    recovered_at        timestamptz not null default now()
);
comment on table dq.recovered_loads is
    'Loads a crash left unfinished (the loader killed, PostgreSQL stopped mid-COPY), found and cleaned up by the next run (run_id, extract_date): its manifest row marked failed with the reason, the tables it left in raw dropped (extract/recovery.py).';
"""


def as_dq_writer(cur) -> None:
    """For the rest of the transaction, act as safeguarding_dq_writer (the dq tables' owner), when
    the connection's role may: the tables DDL creates then belong to the group, whichever step ran it."""
    cur.execute("select exists (select 1 from pg_roles where rolname = %s)", (DQ_WRITER,))
    if cur.fetchone()[0]:
        # A member (true for a superuser too), and the group may create in this database: roles are
        # server-wide, so on a database `safeguarding roles` never granted (a new one on a server
        # whose other databases have the roles) the group may not create the dq schema.
        cur.execute("select pg_has_role(%(g)s, 'member') and (has_database_privilege(%(g)s, current_database(), 'create') "
                    "or has_schema_privilege(%(g)s, coalesce(to_regnamespace('dq')::oid, 0), 'create'))",
                    {"g": DQ_WRITER})
        if cur.fetchone()[0]:
            cur.execute(f"set local role {DQ_WRITER}")


def ensure_schema(conn) -> None:
    """Create the dq schema and tables if needed, and let the auditor role read them (if it exists).

    The pipeline's roles (loader, transformer) are members of safeguarding_dq_writer, which owns
    the dq tables (warehouse/roles.py): the DDL runs as that group, so whichever step creates a
    table, both can keep it up to date (the superuser, in tests, runs it as that group too)."""
    with conn.cursor() as cur:
        # Two steps of a run may start at once (a backfill): serialise the DDL.
        cur.execute("select pg_advisory_xact_lock(hashtext('dq.ensure_schema'))")
        as_dq_writer(cur)
        cur.execute(DDL)
        cur.execute(MARTS_BUILDS_DDL)
        cur.execute(RECOVERY_DDL)
        cur.execute("select 1 from pg_roles where rolname = %s", (AUDITOR_ROLE,))
        if cur.fetchone():
            cur.execute(f"grant usage on schema dq to {AUDITOR_ROLE}")
            cur.execute(f"grant select on all tables in schema dq to {AUDITOR_ROLE}")
    conn.commit()


def record_validation(conn, *, run_id: str, extract_date: date, checkpoint: str, gx_run_name: str,
                      results: list[dict[str, Any]], data_docs: str | None) -> int:
    """Store one checkpoint run and its expectation results. Returns the validation_run_id.

    ``results`` are dicts with the keys of dq.validation_results (see validate._result_rows).
    """
    ensure_schema(conn)
    critical_failures = sum(1 for r in results if not r["success"] and r["severity"] == "critical")
    warnings = sum(1 for r in results if not r["success"] and r["severity"] == "warning")
    with conn.cursor() as cur:
        cur.execute(
            """insert into dq.validation_runs (run_id, extract_date, checkpoint, gx_run_name, success, suites,
                                               evaluated, critical_failures, warnings, data_docs)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning validation_run_id""",
            (run_id, extract_date, checkpoint, gx_run_name, critical_failures == 0,
             len({r["suite"] for r in results}), len(results), critical_failures, warnings, data_docs))
        validation_run_id = cur.fetchone()[0]
        for r in results:
            cur.execute(
                """insert into dq.validation_results (validation_run_id, run_id, extract_date, checkpoint, suite,
                       expectation, expectation_type, column_name, severity, success, observed_value, element_count,
                       unexpected_count, unexpected_percent, unexpected_sample, sample_kind, exception_message,
                       arguments, why)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (validation_run_id, run_id, extract_date, checkpoint, r["suite"], r["expectation"],
                 r["expectation_type"], r.get("column_name"), r["severity"], r["success"], r.get("observed_value"),
                 r.get("element_count"), r.get("unexpected_count"), r.get("unexpected_percent"),
                 _json(r.get("unexpected_sample")), r.get("sample_kind"), r.get("exception_message"),
                 _json(r.get("arguments")), r.get("why")))
    conn.commit()
    return validation_run_id


def record_night(conn, *, run_id: str, extract_date: date, status: str, stage: str,
                 message: str | None = None) -> None:
    """Insert or update the pipeline run's row in dq.nightly_runs.

    The failure and warning counts are recomputed from the run's latest checkpoint
    results, so they always agree with dq.validation_results.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown night status {status!r}; choose one of {', '.join(STATUSES)}")
    ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute(
            """insert into dq.nightly_runs (run_id, extract_date, status, stage, message, published_at)
               values (%(run_id)s, %(extract_date)s, %(status)s, %(stage)s, %(message)s,
                       case when %(status)s like 'published%%' then now() end)
               on conflict (run_id) do update set
                   extract_date = excluded.extract_date, status = excluded.status, stage = excluded.stage,
                   message = coalesce(excluded.message, dq.nightly_runs.message), updated_at = now(),
                   published_at = coalesce(excluded.published_at, dq.nightly_runs.published_at)""",
            {"run_id": run_id, "extract_date": extract_date, "status": status, "stage": stage, "message": message})
        cur.execute(
            """update dq.nightly_runs n set critical_failures = coalesce(c.critical_failures, 0),
                                            warnings = coalesce(c.warnings, 0)
               from (select sum(critical_failures) as critical_failures, sum(warnings) as warnings
                     from (select distinct on (checkpoint) critical_failures, warnings
                           from dq.validation_runs where run_id = %s
                           order by checkpoint, validated_at desc, validation_run_id desc) latest) c
               where n.run_id = %s""", (run_id, run_id))
    conn.commit()


def warnings_for_run(conn, run_id: str) -> int:
    """Failed warning-severity expectations in the run's latest checkpoint runs."""
    ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute("""select coalesce(sum(warnings), 0) from (
                           select distinct on (checkpoint) warnings from dq.validation_runs where run_id = %s
                           order by checkpoint, validated_at desc, validation_run_id desc) latest""", (run_id,))
        return int(cur.fetchone()[0])


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def rows(conn, query: str, params: Iterable[Any] | dict | None = None) -> list[dict[str, Any]]:
    """A query's rows as dicts (for the report)."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


# --- the night's bookkeeping, called from pipeline/nightly.py's steps ---------------------------

def current_run_id(extract_date: date) -> str:
    """The pipeline run's id: Airflow's run id inside a task, else one per extract date.

    Airflow exports AIRFLOW_CTX_DAG_RUN_ID to every task's environment, so all the
    steps of one DAG run record under the same id.
    """
    import os

    return os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or f"manual__{extract_date.isoformat()}"


def record_recoveries(conn, *, run_id: str, extract_date: date, recovered: list) -> None:
    """What the run found left unfinished by a crash and cleaned up (extract/recovery.py)."""
    if not recovered:
        return
    ensure_schema(conn)
    with conn.cursor() as cur:
        for r in recovered:
            cur.execute("""insert into dq.recovered_loads (run_id, extract_date, feed, batch_id, batch_extract_date,
                                                          source_file, what, dropped_tables)
                           values (%s, %s, %s, %s, %s, %s, %s, %s)""",
                        (run_id, extract_date, r.feed, r.batch_id, r.extract_date, r.source_file, r.what,
                         list(r.dropped_tables)))
    conn.commit()


PUBLICATION_DDL = """
drop table if exists {schema}.publication;
create table {schema}.publication (
    extract_date       date        not null,
    run_id             text        not null,
    status             text        not null,
    warnings           integer     not null,
    published_at       timestamptz not null default now(),
    quality_report     text
);
comment on table {schema}.publication is
    'What is published: the extract date of these marts, and whether the night passed its quality gates '
    'with warnings (status published_with_warnings, warnings > 0). Details: dq.night_results for this run_id.';
"""


def write_publication_record(cur, schema: str, *, extract_date: date, run_id: str, status: str,
                             warnings: int, quality_report: str | None) -> None:
    """Write the one-row ``publication`` table into the build schema, so it is published with the marts.

    BI readers cannot read dq; this row is how they see that tonight's marts carry a
    warning flag, and which night they are. Written in the publish transaction (``cur``),
    after the build is checked (publication/publish.py).
    """
    cur.execute(PUBLICATION_DDL.format(schema=schema))
    cur.execute(f"insert into {schema}.publication (extract_date, run_id, status, warnings, quality_report) "
                "values (%s, %s, %s, %s, %s)", (extract_date, run_id, status, warnings, quality_report))


def has_marts(conn, schema: str) -> bool:
    """Whether the build schema holds any table besides the publication record."""
    with conn.cursor() as cur:
        cur.execute("select count(*) from information_schema.tables where table_schema = %s and table_name <> %s",
                    (schema, PUBLICATION_TABLE))
        found = cur.fetchone()[0] > 0
    conn.rollback()
    return found


def marts_gate_failed(conn, run_id: str) -> bool:
    """Whether the run's latest marts checkpoint failed a critical expectation."""
    ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute("""select not success from dq.validation_runs where run_id = %s and checkpoint = 'nightly_marts'
                       order by validated_at desc, validation_run_id desc limit 1""", (run_id,))
        found = cur.fetchone()
    conn.rollback()
    return bool(found and found[0])
