"""Feeds extracted by a SQL query against a source database, for councils whose system can be queried directly.

Which feeds come from SQL is a settings file (YAML), named by the environment variable
``SAFEGUARDING_SQL_SOURCES``. Without it every feed arrives as a file in the landing folder.

.. code-block:: yaml

    feeds:
      crs__people:
        conn_id: crs_source            # an Airflow connection (e.g. AIRFLOW_CONN_CRS_SOURCE=postgresql://...)
        query: >
          select person_id, nhs_number, to_char(dob, 'YYYY-MM-DD') as date_of_birth, ...
          from social_care.person
      crs__contacts:                   # incremental: {since} is the last extract date loaded, {extract_date} tonight's
        conn_id: crs_source
        query: select ... from social_care.contact where updated_at::date > {since} and updated_at::date <= {extract_date}

The query must return the feed's declared columns by name (any order), as text in the
feed conventions (dates ``YYYY-MM-DD``, date-times ``YYYY-MM-DD HH:MM`` London time, flags
``Y``/``N``). ``{extract_date}`` and ``{since}`` are replaced by SQL date literals (``since`` is
``'-infinity'`` before the first load, so the first extract holds everything).

How it runs: ``COPY (query) TO STDOUT`` through the Airflow connection's ``PostgresHook``,
streamed to a file in the landing folder, exactly where a delivered file would land
(``<landing>/<source>/<extract date>/<file name>``). The file then goes through the same
``load_file`` as a delivered one: same checks, quarantine, lineage, manifest. Memory stays
flat, and the landing folder keeps what was extracted each night, so a re-run of a past
night reloads what that night saw rather than querying the source's state today (delete
the file to extract again).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.settings import private_folder

from .feeds import FEEDS_BY_ID, Feed

log = logging.getLogger(__name__)

SETTINGS_VARIABLE = "SAFEGUARDING_SQL_SOURCES"


class SourceConfigurationError(ValueError):
    """The SQL sources settings file is wrong; the message says where."""


@dataclass(frozen=True)
class SqlSource:
    feed_id: str
    conn_id: str
    query: str


def sql_sources(environ: dict[str, str] | None = None) -> dict[str, SqlSource]:
    """Feed id -> its SQL source, from the settings file (empty when none is configured)."""
    import yaml

    env = os.environ if environ is None else environ
    setting = env.get(SETTINGS_VARIABLE, "").strip()
    if not setting:
        return {}
    path = Path(setting)
    if not path.is_file():
        raise SourceConfigurationError(f"{SETTINGS_VARIABLE}={setting}: no such file")
    document = yaml.safe_load(path.read_text()) or {}
    feeds = document.get("feeds") or {}
    if not isinstance(feeds, dict):
        raise SourceConfigurationError(f"{path}: 'feeds' must map feed ids to {{conn_id, query}}")
    sources = {}
    for feed_id, entry in feeds.items():
        if feed_id not in FEEDS_BY_ID:
            raise SourceConfigurationError(f"{path}: unknown feed {feed_id!r}; feeds are declared in extract/feeds.py")
        if not isinstance(entry, dict) or not entry.get("conn_id") or not entry.get("query"):
            raise SourceConfigurationError(f"{path}: feed {feed_id} needs a conn_id and a query")
        sources[feed_id] = SqlSource(feed_id, str(entry["conn_id"]), str(entry["query"]).strip().rstrip(";"))
    return sources


def render_query(source: SqlSource, extract_date: date, since: date | None) -> str:
    def literal(day: date | None) -> str:
        return f"'{day.isoformat()}'::date" if day else "'-infinity'::date"

    try:
        return source.query.format(extract_date=literal(extract_date), since=literal(since))
    except (KeyError, IndexError) as exc:
        raise SourceConfigurationError(f"feed {source.feed_id}: the query uses an unknown placeholder {exc}; "
                                       "only {extract_date} and {since} are available") from None


def extract_to_file(source: SqlSource, feed: Feed, target: Path, extract_date: date, since: date | None) -> Path:
    """Stream the query's result as CSV into the landing folder (written aside, then renamed)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    query = render_query(source, extract_date, since)
    private_folder(target.parent)  # children's data: owner only (the file too, below)
    partial = target.with_name(target.name + ".partial")
    copy = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"
    log.info("%s: extracting from connection %s into %s", feed.id, source.conn_id, target)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # created private, then filled
    PostgresHook(postgres_conn_id=source.conn_id).copy_expert(copy, str(partial))
    partial.chmod(0o600)
    partial.replace(target)
    return target
