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
