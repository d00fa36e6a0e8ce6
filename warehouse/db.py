"""Connections to the warehouse, with errors a data engineer can act on."""

from __future__ import annotations

import psycopg2

from .settings import ConfigurationError, Settings


def connect(settings: Settings, *, autocommit: bool = False):
    c = settings.connection
    try:
        conn = psycopg2.connect(
            host=c.host, port=c.port, user=c.user, password=c.password or None,
            dbname=c.dbname, connect_timeout=10, application_name="safeguarding-warehouse",
        )
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        hint = (
            "Start it with `make start` (or `make run`), or check SAFEGUARDING_PG_PORT."
            if settings.embedded
            else "Check SAFEGUARDING_WAREHOUSE_URL: the host, port, database name and password, "
            "and that the server accepts connections from this machine."
        )
        raise ConfigurationError(f"Cannot connect to the warehouse at {c.display_url}: {reason}. {hint}") from None
    conn.autocommit = autocommit
    return conn


# The comment `safeguarding start` and `safeguarding roles` put on the warehouse database, so that
# `safeguarding status` can tell our warehouse from another PostgreSQL that answers on the port.
WAREHOUSE_MARKER = "safeguarding-warehouse"
MARKER_COMMENT = (f"{WAREHOUSE_MARKER}: the safeguarding data warehouse (schemas raw, marts, dq). "
                  "`safeguarding status` checks this comment: leave it in place.")


def mark_as_warehouse(conn) -> None:
    """Put the marker comment on the current database (its owner or a superuser may)."""
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute("select current_database()")
        cur.execute(sql.SQL("comment on database {} is %s").format(sql.Identifier(cur.fetchone()[0])),
                    (MARKER_COMMENT,))
    conn.commit()


def not_our_warehouse(conn, settings: Settings) -> list[str]:
    """Why the server this connection reached is not the warehouse the settings describe; [] when it is.

    An open port proves nothing: another PostgreSQL (another checkout's embedded server, a
    system one) may hold it. Checked: the database's name, the marker comment, and for the
    embedded default the server's data folder."""
    from pathlib import Path

    with conn.cursor() as cur:
        cur.execute("select current_database(), shobj_description(oid, 'pg_database') from pg_database "
                    "where datname = current_database()")
        name, comment = cur.fetchone()
        data_directory = None
        if settings.embedded:
            cur.execute("show data_directory")
            data_directory = cur.fetchone()[0]
    conn.rollback()
    problems = []
    if name != settings.connection.dbname:
        problems.append(f"it is database {name!r}, not {settings.connection.dbname!r}")
    if not (comment or "").startswith(WAREHOUSE_MARKER):
        problems.append(f"the database has no {WAREHOUSE_MARKER!r} marker (run `safeguarding start` or "
                        "`safeguarding roles` to set up a new warehouse there)")
    if data_directory and Path(data_directory).resolve() != settings.pgdata_dir.resolve():
        problems.append(f"the server's data folder is {data_directory}, not {settings.pgdata_dir}: "
                        "another PostgreSQL holds the port")
    return problems
