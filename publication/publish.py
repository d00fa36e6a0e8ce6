"""Publish a validated build: the `marts_build` schema becomes `marts`, atomically.

Write-audit-publish: dbt writes the night's marts to ``marts_build``; Great
Expectations audits them there; only then does this swap make them the
``marts`` that BI tools read. The swap is three renames in one transaction, so
a reader sees last night's marts or tonight's, never a mixture, and a night
that fails before this step leaves the previous publication untouched.

Only the build that passed its quality gate is swapped in: inside the same transaction,
publication/builds.py checks that the run publishing it made it, that its gate passed, and that
``marts_build`` is unchanged since (so a publish step run by hand after a held-back night, or
after another build overwrote the schema, is refused).

Readers never read ``marts`` itself: each audience reads its own schema of views, which the
same transaction re-creates over the new marts (warehouse/audiences.py).
"""

from __future__ import annotations

import logging
from typing import Callable

from psycopg2 import sql

from warehouse import audiences, dq
from warehouse.roles import MARTS, MARTS_BUILD

from . import builds

log = logging.getLogger(__name__)

BUILD_SCHEMA = MARTS_BUILD  # the schema names are declared once, with their grants (warehouse/roles.py)
PUBLISHED_SCHEMA = MARTS
PREVIOUS_SCHEMA = "marts_previous"


class NothingToPublish(RuntimeError):
    pass


def publish(conn, *, run_id: str, before_swap: Callable | None = None) -> list[str]:
    """Swap the build schema into place, if it is the build ``run_id`` made and passed its gate,
    with every audience's views over it.

    ``before_swap(cursor)`` runs in the same transaction, after the check (the publication
    record is written there). Raises builds.BuildRefused. Returns the published table names."""
    with conn.cursor() as cur:
        # Wait at most 30 s for readers' locks rather than queue behind a long BI query forever.
        cur.execute("set local lock_timeout = '30s'")
        build = builds.verify_for_publish(cur, run_id)
        cur.execute("select 1 from information_schema.schemata where schema_name = %s", (BUILD_SCHEMA,))
        if cur.fetchone() is None:
            raise NothingToPublish(f"There is no {BUILD_SCHEMA} schema to publish: has dbt built the marts?")
        listing = "select table_name from information_schema.tables where table_schema = %s order by 1"
        cur.execute(listing, (BUILD_SCHEMA,))
        if not [r[0] for r in cur.fetchall() if r[0] != dq.PUBLICATION_TABLE]:
            raise NothingToPublish(f"The {BUILD_SCHEMA} schema is empty: nothing to publish")
        if before_swap is not None:
            before_swap(cur)
        cur.execute(listing, (BUILD_SCHEMA,))
        tables = [r[0] for r in cur.fetchall()]
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PREVIOUS_SCHEMA)))
        cur.execute("select 1 from information_schema.schemata where schema_name = %s", (PUBLISHED_SCHEMA,))
        if cur.fetchone():
            cur.execute(sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(PREVIOUS_SCHEMA)))
        cur.execute(sql.SQL("alter schema {} rename to {}").format(
            sql.Identifier(BUILD_SCHEMA), sql.Identifier(PUBLISHED_SCHEMA)))
        cur.execute(sql.SQL("comment on schema {} is %s").format(sql.Identifier(PUBLISHED_SCHEMA)),
                    ("Published marts: validated by the nightly quality gates. The schema BI tools read.",))
        # Each audience's views over the marts just published, in this same transaction
        # (warehouse/audiences.yml); nothing for anyone on yesterday's marts.
        audiences.release(cur, run_id=run_id, extract_date=build.extract_date)
        builds.mark_published(cur, build)
    conn.commit()
    log.info("published %s to schema %s", ", ".join(tables), PUBLISHED_SCHEMA)
    return tables


def published_tables(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s order by 1",
                    (PUBLISHED_SCHEMA,))
        tables = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return tables
