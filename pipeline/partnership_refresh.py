"""What runs after each publication: the partnership scorecard refresh and the quality report.

The ``safeguarding_partnership_refresh`` DAG is scheduled on the Asset the nightly
publish task updates, not on the clock, so it runs exactly when there are new
published marts, and never on a night the quality gates held the marts back.

The scorecard: ``reporting.partnership_scorecard`` is a materialized view over the
published ``marts.mart_partnership_scorecard``. Why a copy: the nightly publish
swaps the ``marts`` schema, while the partnership board's dashboards and monthly
exports read one stable object that changes only when this refresh succeeds. It
is rebuilt (drop + create in one transaction, because the schema swap replaces
the table it reads) and granted to the audiences that read the scorecard. Until the
scorecard mart exists, the refresh logs that and does nothing.
"""

from __future__ import annotations

import logging

from psycopg2 import sql

from warehouse import db
from warehouse.settings import Settings, load

log = logging.getLogger(__name__)

SCORECARD_MART = ("marts", "mart_partnership_scorecard")
SCORECARD_VIEW = ("reporting", "partnership_scorecard")


def readers_of_the_scorecard() -> list[str]:
    """The audiences that warehouse/audiences.yml lets read this copy (reads_tables)."""
    from warehouse.audiences import declaration

    return [a.name for a in declaration().audiences.values() if ".".join(SCORECARD_VIEW) in a.reads_tables]


def refresh_partnership_scorecard(settings: Settings | None = None) -> int | None:
    """Rebuild reporting.partnership_scorecard from the published mart; returns its row count."""
    settings = settings or _as_transformer(load())
    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (".".join(SCORECARD_MART),))
            if cur.fetchone()[0] is None:
                log.warning("%s.%s is not published yet: no partnership scorecard to refresh", *SCORECARD_MART)
                return None
            view = sql.Identifier(*SCORECARD_VIEW)
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCORECARD_VIEW[0])))
            cur.execute(sql.SQL("drop materialized view if exists {}").format(view))
            cur.execute(sql.SQL("create materialized view {} as select * from {}").format(
                view, sql.Identifier(*SCORECARD_MART)))
            cur.execute(sql.SQL("comment on materialized view {} is %s").format(view),
                        ("The monthly partnership scorecard as last published; refreshed by the "
                         "safeguarding_partnership_refresh DAG after each publication.",))
            for role in readers_of_the_scorecard():
                cur.execute("select 1 from pg_roles where rolname = %s", (role,))
                if cur.fetchone():
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(
                        sql.Identifier(SCORECARD_VIEW[0]), sql.Identifier(role)))
                    cur.execute(sql.SQL("grant select on {} to {}").format(view, sql.Identifier(role)))
            cur.execute(sql.SQL("select count(*) from {}").format(view))
            rows = cur.fetchone()[0]
        conn.commit()
        log.info("refreshed %s.%s: %s rows", *SCORECARD_VIEW, rows)
        return rows
    finally:
        conn.close()


def _as_transformer(settings: Settings) -> Settings:
    """The refresh DAG's tasks are pipeline steps: they connect as the transformer (warehouse/audiences.yml)."""
    from warehouse.audiences import declaration

    return settings.as_role(declaration().transformer.name)


def build_quality_report_if_available(settings: Settings | None = None):
    """The data-quality report (expectations.quality_report, issue 5), if that module exists yet."""
    try:
        from expectations.quality_report import build_quality_report
    except ImportError as exc:
        log.warning("No quality report to build (%s): skipping", exc)
        return None
    return build_quality_report(settings or _as_transformer(load()))
