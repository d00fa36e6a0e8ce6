"""Publish a validated build: the `marts_build` schema becomes `marts`, atomically.

Write-audit-publish: dbt writes the night's marts to ``marts_build``; Great
Expectations audits them there; only then does this swap make them the
``marts`` that BI tools read. The swap is three renames in one transaction, so
a reader sees last night's marts or tonight's, never a mixture, and a night
that fails before this step leaves the previous publication untouched.
"""

from __future__ import annotations

import logging

from psycopg2 import sql

log = logging.getLogger(__name__)

BUILD_SCHEMA = "marts_build"
PUBLISHED_SCHEMA = "marts"
PREVIOUS_SCHEMA = "marts_previous"
# Roles that read published marts; granted if they exist (issue: access control).
READER_ROLES = ("safeguarding_bi_reader", "safeguarding_auditor")


class NothingToPublish(RuntimeError):
    pass


def publish(conn) -> list[str]:
    """Swap the build schema into place. Returns the published table names."""
    with conn.cursor() as cur:
        cur.execute("select 1 from information_schema.schemata where schema_name = %s", (BUILD_SCHEMA,))
        if cur.fetchone() is None:
            raise NothingToPublish(f"There is no {BUILD_SCHEMA} schema to publish: has dbt built the marts?")
        cur.execute("select table_name from information_schema.tables where table_schema = %s order by 1",
                    (BUILD_SCHEMA,))
        tables = [r[0] for r in cur.fetchall()]
        if not tables:
            raise NothingToPublish(f"The {BUILD_SCHEMA} schema is empty: nothing to publish")
        # Wait at most 30 s for readers' locks rather than queue behind a long BI query forever.
        cur.execute("set local lock_timeout = '30s'")
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PREVIOUS_SCHEMA)))
        cur.execute("select 1 from information_schema.schemata where schema_name = %s", (PUBLISHED_SCHEMA,))
        if cur.fetchone():
            cur.execute(sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(PREVIOUS_SCHEMA)))
        cur.execute(sql.SQL("alter schema {} rename to {}").format(
            sql.Identifier(BUILD_SCHEMA), sql.Identifier(PUBLISHED_SCHEMA)))
        cur.execute(sql.SQL("comment on schema {} is %s").format(sql.Identifier(PUBLISHED_SCHEMA)),
                    ("Published marts: validated by the nightly quality gates. The schema BI tools read.",))
        for role in READER_ROLES:
            cur.execute("select 1 from pg_roles where rolname = %s", (role,))
            if cur.fetchone():
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(role)))
                cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(role)))
    conn.commit()
    log.info("published %s to schema %s", ", ".join(tables), PUBLISHED_SCHEMA)
    return tables
