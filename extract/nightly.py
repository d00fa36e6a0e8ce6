"""Load every feed of one night's extract: what the DAG's extract task calls."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from warehouse import db
from warehouse.settings import Settings

from .feeds import FEEDS, Feed
from .generate import landing_folder
from .load import LoadResult, load_file

log = logging.getLogger(__name__)


class MissingFile(FileNotFoundError):
    """A feed's file for the night has not arrived."""


def expected_file(landing_dir: Path, feed: Feed, extract_date: date) -> Path:
    return landing_folder(landing_dir, feed.source, extract_date) / feed.file_name


def load_night(settings: Settings, extract_date: date, feeds: tuple[Feed, ...] = FEEDS) -> list[LoadResult]:
    missing = [expected_file(settings.landing_dir, f, extract_date) for f in feeds
               if not expected_file(settings.landing_dir, f, extract_date).exists()]
    if missing:
        raise MissingFile("The night's extract is incomplete; these files have not arrived: "
                          + ", ".join(str(m) for m in missing))
    results = []
    conn = db.connect(settings)
    try:
        for feed in feeds:
            result = load_file(conn, feed, expected_file(settings.landing_dir, feed, extract_date), extract_date)
            log.info("%s %s: %s, %s rows (batch %s)", feed.id, extract_date, result.status, result.rows,
                     result.batch_id)
            results.append(result)
    finally:
        conn.close()
    return results
