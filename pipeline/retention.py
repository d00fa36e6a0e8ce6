"""Retention: person-level data is kept only as long as warehouse/audiences.yml says, per dataset.

Applied each night (the ``apply_retention`` step, after the load and before the raw quality
gate, so nothing built that night holds what retention removes), by the role that owns the zone:

* ``rows``: person-level rows whose event ended more than ``keep`` before the night are deleted
  (unless a row of another table still refers to them: ``kept_while``) from every batch of a raw feed (so the marts built from it that night leave them out), from
  the snapshots' history (a snapshot table keeps old versions of rows the feeds no longer
  carry), and from the incremental feeds' staging tables (kept between nights, docs/scale.md). The raw quality gate expects exactly what the load manifest recorded, less what
  retention removed from a batch (``raw.load_manifest.rows_expired``).
* ``raw_batches``: each night's whole extract of a snapshot feed is a complete copy of the
  children's records: a night's batch older than ``keep`` is dropped, never the latest batch of
  a feed, and never an incremental feed's (each of its deltas is part of the current state).
  The manifest row stays, with ``expired_at``.
* ``quarantine``: the rows held back at load time keep their text as delivered (names, dates
  of birth); after ``keep`` that text is replaced, and the reason, column and line stay.

Every dataset and action is counted in ``dq.retention_runs`` each night, zero included, so an
auditor sees that retention ran and what it removed. The cutoffs are relative to the night's
extract date, so re-running a night gives the same result.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from psycopg2 import sql

from warehouse import audiences, db, dq
from warehouse.settings import Settings

log = logging.getLogger(__name__)

QUARANTINE_MARKER = "[removed by retention]"
INTERVAL = re.compile(r"^\s*(\d+)\s+(day|days|month|months|year|years)\s*$")


@dataclass(frozen=True)
class Applied:
    dataset: str
    action: str  # deleted | degraded | dropped_batch
    rule: str
    cutoff: date
    rows_affected: int


def _interval(text: str, where: str) -> str:
    if not isinstance(text, str) or not INTERVAL.match(text):
        raise audiences.DeclarationError(f"retention.{where}: keep must be like '35 days', '7 years', got {text!r}")
    return text.strip()


def _cutoff(cur, night: date, keep: str) -> date:
    cur.execute("select (%s::date - %s::interval)::date", (night, keep))
    return cur.fetchone()[0]


def _exists(cur, table: str) -> bool:
    cur.execute("select to_regclass(%s)", (table,))
    return cur.fetchone()[0] is not None


def _expire_rows(cur, night: date, rule: dict) -> list[Applied]:
    table, column, keep = rule["table"], rule["date_column"], _interval(rule.get("keep"), rule.get("table", "rows"))
    schema, name = table.split(".")
    if not _exists(cur, table):
        return []
    cutoff = _cutoff(cur, night, keep)
    applied = []
    target, col = sql.Identifier(schema, name), sql.Identifier(column)
    # Raw columns are text as delivered; snapshot columns are typed. Either reads as a timestamp.
    expired = sql.SQL("nullif(trim({}::text), '')::timestamp < {}").format(col, sql.Literal(cutoff))
    kept_while = rule.get("kept_while")
    if kept_while:  # e.g. a contact stays while a referral refers to it (audiences.yml)
        key = sql.Identifier(kept_while["key"])
        expired += sql.SQL(" and not exists (select 1 from {} referring where trim(referring.{}::text) = "
                           "trim({}.{}::text))").format(sql.Identifier(*kept_while["referenced_by"].split(".")),
                                                        key, target, key)
    if schema == "raw":
        # The rows of other feeds that exist only for these (`with_rows_of`: an episode's return
        # interview forms) go with them, or they would refer to rows that are gone.
        for dependant in rule.get("with_rows_of") or []:
            if not _exists(cur, dependant["table"]):
                continue
            key = sql.Identifier(dependant["key"])
            cur.execute(sql.SQL("delete from {} where trim({}::text) in (select trim({}::text) from {} where {}) "
                                "returning _batch_id").format(
                sql.Identifier(*dependant["table"].split(".")), key, key, target, expired))
            applied.append(Applied(dependant["table"], "deleted", f"with the {table} rows they refer to", cutoff,
                                   _count_expired(cur, [batch for (batch,) in cur.fetchall()])))
        cur.execute(sql.SQL("delete from {} where {} returning _batch_id").format(target, expired))
        affected = _count_expired(cur, [batch for (batch,) in cur.fetchall()])
    else:
        cur.execute(sql.SQL("delete from {} where {}").format(target, expired))
        affected = cur.rowcount
    return [*applied, Applied(table, "deleted", f"{column} older than {keep}", cutoff, affected)]


def _count_expired(cur, batches: list) -> int:
    """Count rows deleted from raw against their batches (the raw gate expects the rest)."""
    from collections import Counter

    for batch_id, rows in Counter(batches).items():
        cur.execute("update raw.load_manifest set rows_expired = coalesce(rows_expired, 0) + %s "
                    "where batch_id = %s", (rows, batch_id))
    return len(batches)


def _drop_old_batches(cur, night: date, keep: str) -> list[Applied]:
    from extract.feeds import FEEDS

    cutoff = _cutoff(cur, night, keep)
    applied = []
    for feed in FEEDS:
        if not feed.snapshot:
            continue  # an incremental feed's deltas are all part of its current state
        cur.execute("""select batch_id, rows_loaded - coalesce(rows_expired, 0) from raw.load_manifest
                       where feed = %(feed)s and status = 'loaded' and expired_at is null and extract_date < %(cutoff)s
                         and extract_date < (select max(extract_date) from raw.load_manifest
                                             where feed = %(feed)s and status = 'loaded' and extract_date <= %(night)s)""",
                    {"feed": feed.id, "cutoff": cutoff, "night": night})
        dropped = 0
        for batch_id, rows in cur.fetchall():
            cur.execute(sql.SQL("drop table if exists {}").format(sql.Identifier("raw", f"{feed.id}__batch_{batch_id}")))
            cur.execute("update raw.load_manifest set expired_at = now() where batch_id = %s", (batch_id,))
            dropped += rows or 0
        applied.append(Applied(f"raw.{feed.id}", "dropped_batch", f"nightly batches older than {keep}", cutoff,
                               dropped))
    return applied


def _degrade_quarantine(cur, night: date, keep: str) -> Applied | None:
    if not _exists(cur, "raw.quarantine"):
        return None
    cutoff = _cutoff(cur, night, keep)
    cur.execute("update raw.quarantine set original_line = %s where extract_date < %s and original_line <> %s",
                (QUARANTINE_MARKER, cutoff, QUARANTINE_MARKER))
    return Applied("raw.quarantine", "degraded", f"rows as delivered older than {keep}", cutoff, cur.rowcount)


def apply_retention(settings: Settings, night: date, *, as_roles: bool = False) -> list[Applied]:
    """Apply every retention rule of audiences.yml for the night; record each in dq.retention_runs.

    ``as_roles``: connect as the loader for the raw zone and as the transformer for the snapshots
    (the nightly step); otherwise with ``settings`` as given."""
    decl = audiences.declaration()
    rules = decl.retention
    by_schema: dict[str, list[dict]] = {}
    for rule in rules.get("rows") or ():
        by_schema.setdefault(rule["table"].split(".")[0], []).append(rule)
    unknown = set(by_schema) - {"raw", "snapshots", "staging"}
    if unknown:
        raise audiences.DeclarationError(f"retention.rows: only raw, snapshots and staging tables, not "
                                         f"{', '.join(unknown)}")

    applied: list[Applied] = []
    loader = settings.as_role(decl.loader.name) if as_roles else settings
    conn = db.connect(loader)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext('pipeline.retention'))")
            if _exists(cur, "raw.load_manifest"):
                cur.execute("alter table raw.load_manifest add column if not exists rows_expired bigint")
                cur.execute("alter table raw.load_manifest add column if not exists expired_at timestamptz")
                for rule in by_schema.get("raw", ()):
                    applied += _expire_rows(cur, night, rule)
                if rules.get("raw_batches"):
                    applied += _drop_old_batches(cur, night, _interval(rules["raw_batches"].get("keep"), "raw_batches"))
            if rules.get("quarantine"):
                applied += [a for a in [_degrade_quarantine(cur, night, _interval(rules["quarantine"].get("keep"),
                                                                                 "quarantine"))] if a]
        conn.commit()
    finally:
        conn.close()

    # The transformer's tables: the snapshots' history, and the incremental feeds' staging tables,
    # which are kept between nights and so would keep a row retention deleted from raw.
    transformer_rules = [*by_schema.get("snapshots", ()), *by_schema.get("staging", ())]
    if transformer_rules:
        transformer = settings.as_role(decl.transformer.name) if as_roles else settings
        conn = db.connect(transformer)
        try:
            with conn.cursor() as cur:
                for rule in transformer_rules:
                    applied += _expire_rows(cur, night, rule)
            conn.commit()
        finally:
            conn.close()

    conn = db.connect(settings.as_role(decl.transformer.name) if as_roles else settings)
    try:
        dq.ensure_schema(conn)
        with conn.cursor() as cur:
            run_id = dq.current_run_id(night)
            for a in applied:
                cur.execute("insert into dq.retention_runs (run_id, extract_date, dataset, action, rule, cutoff, "
                            "rows_affected) values (%s, %s, %s, %s, %s, %s, %s)",
                            (run_id, night, a.dataset, a.action, a.rule, a.cutoff, a.rows_affected))
        conn.commit()
    finally:
        conn.close()
    for a in applied:
        if a.rows_affected:
            log.info("retention: %s %s rows of %s (%s; before %s)", a.action, a.rows_affected, a.dataset, a.rule,
                     a.cutoff)
    log.info("retention for %s: %d rules applied, %d rows removed or degraded", night, len(applied),
             sum(a.rows_affected for a in applied))
    return applied
