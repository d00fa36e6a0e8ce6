"""Load every feed of one night's extract: what the DAG's extract task calls.

Each feed comes either from its file in the landing folder (the nightly drop) or, when
the SQL sources settings name it (see extract/sources.py), from a query against the
source database, spooled to the same landing path first. Every feed is attempted even
when one is rejected, so one run reports every bad file; the task then fails naming
them all. A rejected feed keeps what was loaded before.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from warehouse import db
from warehouse.settings import Settings

from .feeds import FEEDS, Feed
from .generate import landing_folder
from .load import LoadResult, RejectedFile, load_file, prepare
from .sources import extract_to_file, sql_sources

log = logging.getLogger(__name__)


class MissingFile(FileNotFoundError):
    """A feed's file for the night has not arrived."""


def expected_file(landing_dir: Path, feed: Feed, extract_date: date) -> Path:
    return landing_folder(landing_dir, feed.source, extract_date) / feed.file_name


def last_loaded_date(conn, feed: Feed, before: date) -> date | None:
    """The latest extract date loaded for the feed before `before`: an incremental query's `since`."""
    prepare(conn, feed)
    with conn.cursor() as cur:
        cur.execute("select max(extract_date) from raw.load_manifest "
                    "where feed = %s and status = 'loaded' and extract_date < %s", (feed.id, before))
        return cur.fetchone()[0]


def load_night(settings: Settings, extract_date: date, feeds: tuple[Feed, ...] = FEEDS) -> list[LoadResult]:
    from_sql = sql_sources()
    missing = [expected_file(settings.landing_dir, f, extract_date) for f in feeds
               if f.id not in from_sql and not expected_file(settings.landing_dir, f, extract_date).exists()]
    if missing:
        raise MissingFile("The night's extract is incomplete; these files have not arrived: "
                          + ", ".join(str(m) for m in missing))
    results: list[LoadResult] = []
    rejected: list[str] = []
    conn = db.connect(settings)
    try:
        for feed in feeds:
            path = expected_file(settings.landing_dir, feed, extract_date)
            if feed.id in from_sql and not path.exists():
                since = None if feed.snapshot else last_loaded_date(conn, feed, extract_date)
                extract_to_file(from_sql[feed.id], feed, path, extract_date, since)
            try:
                result = load_file(conn, feed, path, extract_date)
            except RejectedFile as exc:
                log.error("%s %s: rejected: %s", feed.id, extract_date, exc)
                rejected.append(str(exc))
                continue
            log.info("%s %s: %s, %s rows, %s quarantined (batch %s)", feed.id, extract_date, result.status,
                     result.rows, result.rows_quarantined, result.batch_id)
            results.append(result)
    finally:
        conn.close()
    if rejected:
        raise RejectedFile(f"{len(rejected)} file(s) rejected for extract date {extract_date}:\n"
                           + "\n".join(rejected))
    return results
