"""Import a folder of statutory returns for a collection year, into the same raw zone as the nightly feeds.

    safeguarding import-returns path/to/returns --year 2018

Three steps, each with the extract layer's guarantees:

1. **Collect**: each return (extract/returns/registry.py) finds its files in the
   folder; XML and Excel files are converted to CSVs in the landing folder
   (``<landing>/<return>/<YYYY-03-31>/``). A file that cannot be read is rejected
   with its line and column, and the rejection is recorded in raw.load_manifest.
2. **Load** every return table with the nightly loader (extract/load.py): file
   checks, row checks into raw.quarantine, lineage, the manifest, an atomic swap of
   the collection date's batch. Any rejected file fails the import *before*
   anything below changes: what was published before stays published.
3. **Map** into the nightly feeds (``raw.crs__*``): each nightly feed that a loaded
   return can fill gets a new batch for the collection date, built by the returns'
   mapping selects, checked by that feed's own row checks, and attached the same way
   a delivered file is. dbt staging, the marts, the gates and the quality report
   then run unchanged for extract date 31 March.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from psycopg2 import sql

from warehouse import db
from warehouse.settings import Settings

from ..feeds import FEEDS as NIGHTLY_FEEDS
from ..feeds import Feed
from ..load import (LoadResult, RejectedFile, _attach, _fail, _record, file_sha256, load_file, loaded_batch_with, prepare,
                    quarantine_rows)
from ..load_night import MissingFile, landing_folder
from . import Mapping, StatutoryReturn, collection_date, origins
from .registry import RETURNS

log = logging.getLogger(__name__)
# Nightly feeds every loaded return adds its rows to (see registry.py); any other feed is
# filled by the first return in registry order that can fill it.
UNION_OF_RETURNS = frozenset({"crs__people"})
LINEAGE_NOT_NULL = ("_extract_date", "_row_number", "_batch_id", "_feed", "_source_file", "_file_sha256", "_loaded_at")


@dataclass
class ImportResult:
    extract_date: date
    loaded: list[LoadResult] = field(default_factory=list)  # the return files
    derived: list[LoadResult] = field(default_factory=list)  # the nightly feeds' batches made from them

    def summary(self) -> list[str]:
        lines = [f"{r.feed:36} {r.status:9} {r.rows:>8,} rows  {r.rows_quarantined:>5,} quarantined  {r.source_file}"
                 for r in self.loaded]
        lines += [f"{r.feed:36} {r.status:9} {r.rows:>8,} rows  {r.rows_quarantined:>5,} quarantined  (mapped)"
                  for r in self.derived]
        return lines


def import_returns(settings: Settings, folder: Path | str, year: int,
                   returns: tuple[StatutoryReturn, ...] = RETURNS) -> ImportResult:
    """Load a folder of returns for the collection year ending 31 March ``year``, then map them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFile(f"{folder}: no such folder of statutory returns")
    extract_date = collection_date(year)
    result = ImportResult(extract_date)
    rejected: list[str] = []
    conn = db.connect(settings)
    try:
        _prepare_tables(conn, returns)
        files: list[tuple[Feed, Path]] = []
        for statutory_return in returns:
            try:
                found = statutory_return.collect(folder, landing_folder(settings.landing_dir, statutory_return.name,
                                                                        extract_date))
            except RejectedFile as exc:  # a converter could not read the file (malformed XML, not a workbook)
                _record_unreadable(conn, statutory_return, extract_date, exc)
                rejected.append(str(exc))
                continue
            by_id = {f.id: f for f in statutory_return.feeds}
            files += [(by_id[feed_id], Path(path)) for feed_id, path in found.items()]
            log.info("%s: %s", statutory_return.title,
                     ", ".join(f"{k}={Path(v).name}" for k, v in found.items()) or "no files in the folder")
        if not files and not rejected:
            raise MissingFile(f"{folder}: no statutory return files found. Expected "
                              + "; ".join(f"{r.title}: {', '.join(f.file_name for f in r.feeds)}" for r in returns)
                              + " (or the return as XML, or an Annex A workbook); see docs/returns.md")
        for feed, path in files:
            try:
                result.loaded.append(load_file(conn, feed, path, extract_date))
            except RejectedFile as exc:
                log.error("%s %s: rejected: %s", feed.id, extract_date, exc)
                rejected.append(str(exc))
        if rejected:
            origins.locate_quarantined(conn, [r.batch_id for r in result.loaded if r.rows_quarantined])
            raise RejectedFile(f"{len(rejected)} return file(s) rejected for collection year {year} "
                               f"(extract date {extract_date}); nothing was mapped into the nightly feeds:\n"
                               + "\n".join(rejected))
        result.derived = map_into_nightly_feeds(conn, returns, extract_date)
        # Quarantined rows point at the council's own file: the XML line, or the sheet and row.
        origins.locate_quarantined(conn, [r.batch_id for r in result.loaded + result.derived if r.rows_quarantined])
    finally:
        conn.close()
    return result


def map_into_nightly_feeds(conn, returns: tuple[StatutoryReturn, ...], extract_date: date) -> list[LoadResult]:
    """A batch of each nightly feed that the returns loaded for ``extract_date`` can fill.

    Needs the raw tables of every feed and return (``_prepare_tables``, done by import_returns).
    """
    with conn.cursor() as cur:
        cur.execute("select distinct feed from raw.load_manifest where extract_date = %s and status = 'loaded'",
                    (extract_date,))
        loaded = {row[0] for row in cur.fetchall()}
    by_target: dict[str, list[Mapping]] = {}
    filled_by: dict[str, str] = {}  # target feed -> the return that fills it (registry order)
    for statutory_return in returns:
        for mapping in statutory_return.mappings:
            if mapping.reads[0].id not in loaded:
                continue
            target = mapping.target.id
            first = filled_by.setdefault(target, statutory_return.name)
            if first == statutory_return.name or target in UNION_OF_RETURNS:
                by_target.setdefault(target, []).append(mapping)
    results = []
    for mappings in by_target.values():
        result = derive_batch(conn, mappings[0].target, mappings, extract_date)
        log.info("%s %s: %s, %s rows, %s quarantined (batch %s, mapped from %s)", result.feed, extract_date,
                 result.status, result.rows, result.rows_quarantined, result.batch_id, result.source_file)
        results.append(result)
    return results


def _prepare_tables(conn, returns: tuple[StatutoryReturn, ...]) -> None:
    """The manifest and every raw table, empty where nothing was delivered.

    A mapping may read a return table the council did not send, and dbt's staging reads
    every nightly feed, including those no return fills (contacts, HR): they must exist.
    """
    for feed in NIGHTLY_FEEDS + tuple(f for r in returns for f in r.feeds):
        prepare(conn, feed)


def derive_batch(conn, target: Feed, mappings: list[Mapping], extract_date: date) -> LoadResult:
    """One batch of ``target`` made by the mappings' selects, with the loader's row checks and atomic swap."""
    read = sorted({f.id for m in mappings for f in m.reads})
    description = f"mapped from {', '.join(read)}"
    with conn.cursor() as cur:
        cur.execute("select feed, batch_id, file_sha256 from raw.load_manifest "
                    "where extract_date = %s and status = 'loaded' and feed = any(%s) order by feed",
                    (extract_date, read))
        sources = cur.fetchall()
    # The same return files and the same mapping give the same batch: recorded as a duplicate.
    fingerprint = hashlib.sha256(json.dumps([[s[0], s[2]] for s in sources] + [m.select for m in mappings])
                                 .encode()).hexdigest()
    with conn.cursor() as cur:
        already = loaded_batch_with(cur, target, extract_date, fingerprint)
        if already:
            _record(cur, target, extract_date, Path(description), fingerprint, 0, "duplicate",
                    f"same return batches and mapping as batch {already[0]}, which is already loaded")
            conn.commit()
            return LoadResult(target.id, extract_date, description, "duplicate", already[0], already[1], already[2])
        batch_id = _record(cur, target, extract_date, Path(description), fingerprint, 0, "loading")
    conn.commit()

    batch_name = f"{target.id}__batch_{batch_id}"
    batch_table = sql.Identifier(batch_name)
    # '' as NULL, as COPY reads an empty field: the row checks and the raw suites see a delivered file's shape.
    columns = sql.SQL(", ").join(sql.SQL("nullif({c}::text, '') as {c}").format(c=sql.Identifier(c))
                                 for c in target.column_names)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in target.column_names)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in target.key)
    # Rows of every mapping, numbered by mapping: a key filled by an earlier return is not taken
    # again from a later one (registry order), while one return's own repeats stay for the row checks.
    union = sql.SQL(" union all ").join(
        sql.SQL("select {columns}, _source_file::text as _source_file, _source_row::bigint as _source_row, "
                "{i} as _mapping from ({select}) as {alias}").format(
            columns=columns, select=sql.SQL(m.select), i=sql.Literal(i), alias=sql.Identifier(f"mapping_{i}"))
        for i, m in enumerate(mappings))
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("""
                create table raw.{batch} as
                select {names},
                       %(extract_date)s::date as _extract_date,
                       row_number() over (order by _mapping, _source_file, _source_row)::bigint as _row_number,
                       {batch_id}::bigint as _batch_id, {feed}::text as _feed,
                       _source_file || ' row ' || _source_row as _source_file,
                       {fingerprint}::text as _file_sha256, now() as _loaded_at
                from (select *, min(_mapping) over (partition by {keys}) as _first_mapping from ({union}) rows) ranked
                where _mapping = _first_mapping""").format(
                batch=batch_table, names=names, batch_id=sql.Literal(batch_id), feed=sql.Literal(target.id),
                fingerprint=sql.Literal(fingerprint), keys=keys, union=union), {"extract_date": extract_date})
            copied = cur.rowcount
            cur.execute(sql.SQL("alter table raw.{} {}").format(batch_table, sql.SQL(", ").join(
                sql.SQL("alter column {} set not null").format(sql.Identifier(c)) for c in LINEAGE_NOT_NULL)))
            cur.execute(sql.SQL("alter table raw.{} add check (_extract_date = {})").format(
                batch_table, sql.Literal(extract_date)))
        conn.commit()
        with conn.cursor() as cur:
            # Each mapped row names the return row it came from (<CSV> row <n>), not "mapped from ...".
            quarantined = quarantine_rows(cur, target, batch_id, batch_table, target.column_names, extract_date,
                                          sql.SQL("b._source_file"))
        conn.commit()
        _attach(conn, target, extract_date, batch_id, batch_table, copied - quarantined, quarantined)
    except BaseException as exc:
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"mapping into {target.id} failed: {exc}".strip())
        raise
    if quarantined:
        log.warning("%s: %s mapped row(s) quarantined (see raw.quarantine, batch %s)", target.id, quarantined,
                    batch_id)
    return LoadResult(target.id, extract_date, description, "loaded", batch_id, copied - quarantined, quarantined)


def _record_unreadable(conn, statutory_return: StatutoryReturn, extract_date: date, exc: RejectedFile) -> None:
    """Record in the manifest a return file its converter could not read (the feed is the return's name)."""
    path = Path(getattr(exc, "path", "") or str(exc).split(":", 1)[0])
    sha, size = (file_sha256(path), path.stat().st_size) if path.is_file() else ("", 0)
    with conn.cursor() as cur:
        _record(cur, statutory_return.name, extract_date, path, sha, size, "rejected", str(exc))
    conn.commit()
