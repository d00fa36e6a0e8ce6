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
from .load import LoadResult, RejectedFile, load_file, prepare
from .sources import extract_to_file, sql_sources

log = logging.getLogger(__name__)


def landing_folder(landing_dir: Path, source: str, extract_date: date) -> Path:
    """Where a night's files for one source system land: <landing>/<source>/<YYYY-MM-DD>/."""
    return Path(landing_dir) / source / extract_date.isoformat()


class MissingFile(FileNotFoundError):
    """A feed's file for the night has not arrived."""


class MissingDelta(RejectedFile):
    """An incremental feed's earlier delivery was rejected (or its load failed) and never loaded since."""


def missing_deltas(conn, feeds: tuple[Feed, ...], extract_date: date) -> list[str]:
    """For each incremental feed, the earlier nights whose delivery was refused and never loaded.

    An incremental feed's file holds only the rows changed since the previous delivery, and the
    staging model takes each key's latest version over every batch (macro
    latest_version_of_each_key). A delta that was rejected and then skipped is lost for good:
    tonight's delta does not repeat its changes. So such a gap holds every later night back until
    that night's file (its delta, or a full extract) is re-delivered and loaded. Feeds extracted
    from a source database are not checked: their query asks for everything since the last night
    loaded (extract/sources.py), so they cannot leave a gap. One query per feed, on the manifest."""
    problems = []
    with conn.cursor() as cur:
        for feed in feeds:
            cur.execute("""select extract_date, (array_agg(message order by batch_id desc))[1]
                           from raw.load_manifest where feed = %s and extract_date < %s
                           group by extract_date
                           having bool_or(status in ('rejected', 'failed')) and not bool_or(status = 'loaded')
                           order by extract_date""", (feed.id, extract_date))
            for night, message in cur.fetchall():
                problems.append(
                    f"{feed.id}: the delivery of {night} was refused and has not been loaded since "
                    f"({(message or '').splitlines()[0][:300]}). {feed.id} is incremental (each file holds only "
                    f"the rows changed since the one before), so nights after {night} would lack its changes: "
                    f"held back. Re-deliver {night}'s file (its delta, or a full extract), re-run that night "
                    f"(extract_date {night}), then this one.")
    conn.rollback()
    return problems


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
        gaps = missing_deltas(conn, tuple(f for f in feeds if not f.snapshot and f.id not in from_sql),
                              extract_date)
    finally:
        conn.close()
    for gap in gaps:
        log.error("%s: %s", extract_date, gap)
    if rejected or gaps:
        message = (f"{len(rejected)} file(s) rejected for extract date {extract_date}:\n" + "\n".join(rejected)
                   if rejected else "")
        if gaps:
            message += ("\n" if message else "") + (f"Extract date {extract_date} is held back: an incremental feed "
                                                      "has a delivery missing before it:\n" + "\n".join(gaps))
        raise (MissingDelta if gaps else RejectedFile)(message)
    return results
