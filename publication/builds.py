"""One build of the marts at a time, and only the build that passed its gate is published.

Every run that builds marts (the nightly DAG, the returns DAG, a step run by hand) writes the
one schema ``marts_build``, validates it there, and publishes it by renaming it to ``marts``.
Three rules make that safe when runs overlap, crash, or steps are run by hand; each is held by
the database, in ``dq.marts_builds`` (one row per build, kept as evidence for auditors):

1. **A run claims ``marts_build`` before dbt writes it** (``claim_build``: status ``building``).
   A unique index allows one active claim (``building`` or ``validated``) in the database, so a
   second run's claim fails while the first is active, whichever DAG either is in: it raises
   ``BuildInProgress``, which Airflow retries later. The claim ends when the build is published,
   held back (dbt or the gate failed), or refused at publish; a retry of the same run takes the
   claim over (its build is redone). A claim whose run stopped without ending it (the worker
   killed, the run timed out) is taken over once no step of that run has touched it for
   ``RUN_TIMEOUT``, the DAGs' own run timeout, after which Airflow has ended that run anyway;
   ``safeguarding builds --release`` ends it at once when an operator knows the run is dead.
2. **The gate records exactly what it validated**: ``validate_marts`` checks only the build
   of its own run, and records a fingerprint of ``marts_build`` taken before Great Expectations
   ran, after making sure it had not changed meanwhile (``record_gate``).
3. **Publishing checks, inside the publish transaction** (``verify_for_publish``), that this
   run's build passed its gate (and no raw gate of the run failed), and that ``marts_build`` still
   has the fingerprint the gate recorded. Anything else is refused with ``BuildRefused``: the
   publish step run by hand after a held-back night, a build rewritten by a hand-run ``dbt`` (or
   ``make dry-run``) after its gate, a run whose claim was taken over.

The fingerprint is the identity of every relation in ``marts_build`` (name, oid, file node),
not its rows: dbt creates every mart as a new table on each build (``table`` materialisation:
create aside, rename into place), so any build, by the pipeline or by hand, changes it, and it
costs one catalogue query whatever the size of the marts. An ``UPDATE`` typed into a mart by
hand keeps the table and is not seen; the claim keeps every pipeline build out meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from psycopg2 import sql

from warehouse import dq
from warehouse.dq import PUBLICATION_TABLE
from warehouse.roles import MARTS_BUILD

log = logging.getLogger(__name__)

# The DAGs' dagrun_timeout (dags/*.py read it from here): after it Airflow has ended the run,
# so a claim no step has touched for this long belongs to a run that is over.
RUN_TIMEOUT = timedelta(hours=4)

BUILDING, VALIDATED, PUBLISHED = "building", "validated", "published"
HELD_BACK, ABANDONED, CHANGED = "held_back", "abandoned", "changed"
ACTIVE = (BUILDING, VALIDATED)
_LOCK = "safeguarding marts_build claim"  # serialises claims, gates' records and publication


class BuildInProgress(RuntimeError):
    """Another run holds marts_build. Not a data error: the step is retried later."""


class BuildRefused(RuntimeError):
    """This run's build may not be validated or published (the message says why). No retry helps."""


class AlreadyPublished(BuildRefused):
    """This run's build is published already (a retry of the publish step after it committed)."""


class BuildChangedAfterGate(BuildRefused):
    def __init__(self, message: str, build_id: str) -> None:
        super().__init__(message)
        self.build_id = build_id


@dataclass(frozen=True)
class Build:
    build_id: str
    run_id: str
    extract_date: date
    status: str
    fingerprint: str | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    message: str | None = None

    def describe(self) -> str:
        return f"build {self.build_id} of run {self.run_id} (extract date {self.extract_date}, {self.status})"


_COLUMNS = "build_id, run_id, extract_date, status, fingerprint, started_at, heartbeat_at, message"


def _lock(cur) -> None:
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))


def _active(cur) -> Build | None:
    cur.execute(f"select {_COLUMNS} from dq.marts_builds where status in %s for update", (ACTIVE,))
    row = cur.fetchone()
    return Build(*row) if row else None


def _end(cur, build_id: str, status: str, message: str) -> None:
    cur.execute("update dq.marts_builds set status = %s, message = %s, finished_at = now() where build_id = %s",
                (status, message[:4000], build_id))


def claim_build(conn, *, run_id: str, extract_date: date) -> Build:
    """Claim marts_build for this run's build. Raises BuildInProgress while another run holds it."""
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        _lock(cur)
        active = _active(cur)
        if active is not None:
            cur.execute("select now() - %s > %s", (active.heartbeat_at, RUN_TIMEOUT))
            expired = cur.fetchone()[0]
            if active.run_id == run_id:
                _end(cur, active.build_id, ABANDONED, "superseded by a new build of the same run (a retry)")
            elif expired:
                _end(cur, active.build_id, ABANDONED,
                     f"abandoned: no step of run {active.run_id} touched it since "
                     f"{active.heartbeat_at:%Y-%m-%d %H:%M %Z} (longer than the run timeout, {RUN_TIMEOUT}); "
                     f"taken over by run {run_id}")
                log.warning("Took over marts_build from %s: its run stopped without ending it", active.describe())
            else:
                conn.rollback()
                raise BuildInProgress(
                    f"marts_build is held by {active.describe()} since {active.started_at:%Y-%m-%d %H:%M %Z}: one "
                    f"build at a time (dq.marts_builds). Run {run_id} (extract date {extract_date}) will build once "
                    f"that run has published or been held back. If that run is dead, `safeguarding builds --release` "
                    f"ends its claim; otherwise it lapses {RUN_TIMEOUT} after its last step.")
        cur.execute(f"insert into dq.marts_builds (run_id, extract_date, status) values (%s, %s, %s) "
                    f"returning {_COLUMNS}", (run_id, extract_date, BUILDING))
        build = Build(*cur.fetchone())
    conn.commit()
    log.info("claimed marts_build: %s", build.describe())
    return build


def this_runs_build(conn, run_id: str) -> Build:
    """The active build, which must be this run's (for the gate); touches its heartbeat."""
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        _lock(cur)
        active = _active(cur)
        if active is None or active.run_id != run_id:
            conn.rollback()
            raise BuildRefused(
                f"run {run_id} has no build in {MARTS_BUILD} to validate: "
                + (f"it holds {active.describe()}" if active else "no build is claimed (dq.marts_builds)")
                + ". A run validates only the build it made (build_marts claims it).")
        cur.execute("update dq.marts_builds set heartbeat_at = now() where build_id = %s", (active.build_id,))
    conn.commit()
    return active


def fingerprint(cur) -> str:
    """The identity of every relation in marts_build (publication record aside): see the module docstring."""
    cur.execute("""select md5(coalesce(string_agg(format('%%s:%%s:%%s', c.relname, c.oid, c.relfilenode), ','
                                                  order by c.relname), '') || ':' || n.oid)
                   from pg_namespace n left join pg_class c
                     on c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm', 'f') and c.relname <> %s
                   where n.nspname = %s group by n.oid""", (PUBLICATION_TABLE, MARTS_BUILD))
    row = cur.fetchone()
    return row[0] if row else "no schema"


def current_fingerprint(conn) -> str:
    with conn.cursor() as cur:
        found = fingerprint(cur)
    conn.rollback()
    return found


def record_gate(conn, build: Build, *, passed: bool, checked: str, message: str | None = None) -> None:
    """The gate's verdict on the build it checked: ``checked`` is the fingerprint taken before it ran.

    Passed only if marts_build still has that fingerprint: a build that changed while it was being
    validated was not the build the results describe."""
    with conn.cursor() as cur:
        _lock(cur)
        now = fingerprint(cur)
        if passed and now != checked:
            _end(cur, build.build_id, CHANGED, f"{MARTS_BUILD} changed while its gate ran")
            conn.commit()
            raise BuildChangedAfterGate(
                f"{MARTS_BUILD} changed while the quality gate was validating {build.describe()}: something "
                "else wrote it meanwhile, so the results do not describe what is there. Nothing is published; "
                "re-run the night.", build.build_id)
        if passed:
            cur.execute("update dq.marts_builds set status = %s, fingerprint = %s, validated_at = now(), "
                        "heartbeat_at = now() where build_id = %s and status = %s",
                        (VALIDATED, checked, build.build_id, BUILDING))
        else:
            cur.execute("update dq.marts_builds set status = %s, fingerprint = %s, message = %s, finished_at = now() "
                        "where build_id = %s and status in %s",
                        (HELD_BACK, checked, (message or "failed its quality gate")[:4000], build.build_id, ACTIVE))
    conn.commit()


def hold_back(conn, run_id: str, reason: str) -> None:
    """End this run's active claim (dbt or its gate failed): the next run may build."""
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        _lock(cur)
        active = _active(cur)
        if active is not None and active.run_id == run_id:
            _end(cur, active.build_id, HELD_BACK, reason)
    conn.commit()


def verify_for_publish(cur, run_id: str) -> Build:
    """Inside the publish transaction: the build in marts_build is this run's, and exactly what passed.

    Raises BuildRefused (BuildChangedAfterGate when marts_build differs from what the gate
    checked). Holds the tables of marts_build until the transaction ends, so nothing changes
    them between this check and the swap."""
    _lock(cur)
    cur.execute(f"select {_COLUMNS} from dq.marts_builds where run_id = %s "
                "order by started_at desc, build_id limit 1 for update", (run_id,))
    row = cur.fetchone()
    build = Build(*row) if row else None
    if build is not None and build.status == PUBLISHED:
        raise AlreadyPublished(f"run {run_id} has published its {build.describe()} already: nothing more to do")
    if build is None or build.status != VALIDATED:
        active = _active(cur)
        why = ("it made no build (nothing in dq.marts_builds)" if build is None
               else f"its {build.describe()}" + (f": {build.message}" if build.message else ""))
        held = f" {MARTS_BUILD} holds {active.describe()}." if active and active.run_id != run_id else ""
        raise BuildRefused(f"run {run_id} has no build that passed its quality gate to publish: {why}.{held} "
                           "Only the build a run made and validated is published, by that run.")
    cur.execute("""select checkpoint, success, validated_at from (
                       select distinct on (checkpoint) checkpoint, success, validated_at from dq.validation_runs
                       where run_id = %s order by checkpoint, validated_at desc, validation_run_id desc) latest""",
                (run_id,))
    gates = {checkpoint: (success, at) for checkpoint, success, at in cur.fetchall()}
    marts = gates.get("nightly_marts")
    if marts is None or not marts[0] or marts[1] < build.started_at:
        raise BuildRefused(f"{build.describe()}: no passed nightly_marts gate of run {run_id} after the build "
                           "started (dq.validation_runs)")
    if "nightly_raw" in gates and not gates["nightly_raw"][0]:
        raise BuildRefused(f"{build.describe()}: the run's raw quality gate failed (dq.validation_runs)")
    cur.execute("select c.relname from pg_class c where c.relnamespace = to_regnamespace(%s) and c.relkind in "
                "('r', 'p') order by 1", (MARTS_BUILD,))
    tables = [sql.Identifier(MARTS_BUILD, name) for (name,) in cur.fetchall()]
    if tables:
        cur.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(tables)))
    now = fingerprint(cur)
    if now != build.fingerprint:
        raise BuildChangedAfterGate(
            f"{MARTS_BUILD} is not what the quality gate passed: {build.describe()} was validated, then its "
            "tables were replaced (a dbt run by hand? `make dry-run`?). Nothing is published; re-run the night "
            "so the build is validated again.", build.build_id)
    return build


def mark_published(cur, build: Build) -> None:
    cur.execute("update dq.marts_builds set status = %s, finished_at = now() where build_id = %s",
                (PUBLISHED, build.build_id))


def mark_changed(conn, build_id: str, reason: str) -> None:
    """After a refused publication (its transaction rolled back): the build can never be published."""
    conn.rollback()
    with conn.cursor() as cur:
        _lock(cur)
        _end(cur, build_id, CHANGED, reason)
    conn.commit()


def release(conn, reason: str) -> Build | None:
    """End the active claim, whoever holds it (an operator who knows its run is dead)."""
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        _lock(cur)
        active = _active(cur)
        if active is not None:
            _end(cur, active.build_id, ABANDONED, reason)
    conn.commit()
    return active


def recent(conn, limit: int = 10) -> list[Build]:
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute(f"select {_COLUMNS} from dq.marts_builds order by started_at desc limit %s", (limit,))
        found = [Build(*row) for row in cur.fetchall()]
    conn.rollback()
    return found
