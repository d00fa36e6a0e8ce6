"""Load a night's files into the raw zone with PostgreSQL COPY.

How a file becomes a batch, and why:

* Each raw table is partitioned by extract date. A file is COPY-ed into a new,
  empty table of its own (nobody can see it yet), whose lineage columns are
  constant defaults and whose row number is an identity column, so COPY runs at
  full speed with no per-row work in Python and memory stays flat.
* Publishing the batch is one short transaction: detach and drop the previous
  partition for the same extract date (a corrected re-delivery), attach the new
  one, and record both in ``raw.load_manifest``. Readers see the old batch or
  the new one, never half of either.
* The same file delivered twice (same feed, date and SHA-256) is recorded in
  the manifest as a duplicate and not loaded again.
* A file that does not match its feed declaration is rejected before anything
  is loaded: the manifest records why, and the error names the file, line and
  column. What was loaded before stays as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg2
from psycopg2 import sql

from .feeds import Feed

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = (
    ("_batch_id", "bigint"),
    ("_feed", "text"),
    ("_extract_date", "date"),
    ("_source_file", "text"),
    ("_file_sha256", "text"),
    ("_loaded_at", "timestamptz"),
)

MANIFEST_DDL = """
create schema if not exists raw;
create table if not exists raw.load_manifest (
    batch_id      bigserial primary key,
    feed          text        not null,
    extract_date  date        not null,
    source_file   text        not null,
    file_sha256   text        not null,
    file_bytes    bigint      not null,
    status        text        not null check (status in ('loading', 'loaded', 'replaced', 'duplicate', 'rejected', 'failed')),
    rows_loaded   bigint,
    message       text,
    received_at   timestamptz not null default now(),
    finished_at   timestamptz
);
comment on table raw.load_manifest is
    'Every file the extract layer has seen and what became of it: loaded, replaced by a re-delivery, duplicate, rejected or failed (with the reason).';
"""


class RejectedFile(Exception):
    """A file that does not match its feed declaration. The message names file, line and column."""


@dataclass(frozen=True)
class LoadResult:
    feed: str
    extract_date: date
    source_file: str
    status: str  # loaded | duplicate
    batch_id: int
    rows: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_raw_table(cur, feed: Feed) -> None:
    """The partitioned parent table of a feed: its columns as text, then lineage.

    Raw keeps every value exactly as delivered (text); staging types it, so a
    value that is not a date is caught by a test rather than lost at load time.
    """
    columns = [sql.SQL("{} text").format(sql.Identifier(c)) for c in feed.column_names]
    columns += [sql.SQL("{} {} not null").format(sql.Identifier(n), sql.SQL(t)) for n, t in LINEAGE_COLUMNS]
    columns.append(sql.SQL("_row_number bigint not null"))
    cur.execute(sql.SQL("create table if not exists raw.{} ({}) partition by list (_extract_date)").format(
        sql.Identifier(feed.id), sql.SQL(", ").join(columns)))
    cur.execute(sql.SQL("comment on table raw.{} is %s").format(sql.Identifier(feed.id)), (feed.description,))


def read_header(path: Path, feed: Feed) -> list[str]:
    """The file's column names, checked against the feed declaration."""
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise RejectedFile(f"{path}: line 1: the file is empty; expected a header with columns "
                           f"{', '.join(feed.column_names)}")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectedFile(f"{path}: line 1, byte {exc.start + 1}: the header is not valid UTF-8") from None
    header = next(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in header]
    expected = set(feed.column_names)
    missing = [c for c in feed.column_names if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        hint = " (is the delimiter a comma?)" if len(header) == 1 and feed.column_names[0] not in header else ""
        raise RejectedFile(f"{path}: line 1 (header): {'; '.join(parts)}{hint}. "
                           f"Expected the columns of feed {feed.id}: {', '.join(feed.column_names)}")
    return header


def _record(cur, feed: Feed, extract_date: date, path: Path, sha: str, status: str, message: str | None = None) -> int:
    cur.execute(
        """insert into raw.load_manifest (feed, extract_date, source_file, file_sha256, file_bytes, status, message,
                                          finished_at)
           values (%s, %s, %s, %s, %s, %s, %s, case when %s <> 'loading' then now() end) returning batch_id""",
        (feed.id, extract_date, str(path), sha, path.stat().st_size, status, message, status),
    )
    return cur.fetchone()[0]


def load_file(conn, feed: Feed, path: Path, extract_date: date) -> LoadResult:
    """Load one delivered file as the batch for (feed, extract_date). See the module docstring."""
    path = Path(path)
    sha = file_sha256(path)
    with conn.cursor() as cur:
        cur.execute(MANIFEST_DDL)
        ensure_raw_table(cur, feed)
        cur.execute(
            "select batch_id, rows_loaded from raw.load_manifest "
            "where feed = %s and extract_date = %s and status = 'loaded' and file_sha256 = %s",
            (feed.id, extract_date, sha),
        )
        already = cur.fetchone()
        if already:
            _record(cur, feed, extract_date, path, sha, "duplicate",
                    f"same content as batch {already[0]}, which is already loaded")
            conn.commit()
            log.info("%s: already loaded as batch %s, skipped", path, already[0])
            return LoadResult(feed.id, extract_date, str(path), "duplicate", already[0], already[1])
        try:
            header = read_header(path, feed)
        except RejectedFile as exc:
            _record(cur, feed, extract_date, path, sha, "rejected", str(exc))
            conn.commit()
            raise
        batch_id = _record(cur, feed, extract_date, path, sha, "loading")
        conn.commit()

    batch_table = sql.Identifier(f"{feed.id}__batch_{batch_id}")
    row_sequence = sql.Identifier(f"{feed.id}__batch_{batch_id}__rows")
    try:
        with conn.cursor() as cur:
            columns = [sql.SQL("{} text").format(sql.Identifier(c)) for c in feed.column_names]
            lineage = {
                "_batch_id": batch_id, "_feed": feed.id, "_extract_date": extract_date,
                "_source_file": str(path), "_file_sha256": sha,
            }
            for name, type_ in LINEAGE_COLUMNS:
                if name == "_loaded_at":
                    columns.append(sql.SQL("_loaded_at timestamptz not null default now()"))
                else:
                    columns.append(sql.SQL("{} {} not null default {}").format(
                        sql.Identifier(name), sql.SQL(type_), sql.Literal(lineage[name])))
            # Row 1 is the first data row, on line 2 of the file (line 1 is the header). A sequence
            # rather than an identity column, because a partition may not have an identity column.
            cur.execute(sql.SQL("create sequence raw.{}").format(row_sequence))
            columns.append(sql.SQL("_row_number bigint not null default nextval({})").format(
                sql.Literal(f"raw.{feed.id}__batch_{batch_id}__rows")))
            columns.append(sql.SQL("check (_extract_date = {})").format(sql.Literal(extract_date)))
            cur.execute(sql.SQL("create table raw.{} ({})").format(batch_table, sql.SQL(", ").join(columns)))
            copy = sql.SQL("copy raw.{} ({}) from stdin with (format csv, header true, encoding 'UTF8')").format(
                batch_table, sql.SQL(", ").join(sql.Identifier(c) for c in header))
            with path.open("rb") as fh:
                cur.copy_expert(copy.as_string(conn), fh, size=1 << 20)
            rows = cur.rowcount
            cur.execute(sql.SQL("alter table raw.{} alter column _row_number drop default").format(batch_table))
            cur.execute(sql.SQL("drop sequence raw.{}").format(row_sequence))
        conn.commit()
    except psycopg2.Error as exc:
        conn.rollback()
        message = f"{path}: {_describe_copy_error(exc)}"
        with conn.cursor() as cur:
            cur.execute("update raw.load_manifest set status = 'rejected', message = %s, finished_at = now() "
                        "where batch_id = %s", (message, batch_id))
            cur.execute(sql.SQL("drop table if exists raw.{}").format(batch_table))
            cur.execute(sql.SQL("drop sequence if exists raw.{}").format(row_sequence))
        conn.commit()
        raise RejectedFile(message) from None

    # Publish the batch: swap partitions in one transaction.
    try:
        _attach(conn, feed, extract_date, batch_id, batch_table, rows)
    except psycopg2.Error as exc:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("update raw.load_manifest set status = 'failed', message = %s, finished_at = now() "
                        "where batch_id = %s", (f"could not publish the batch: {exc}".strip(), batch_id))
            cur.execute(sql.SQL("drop table if exists raw.{}").format(batch_table))
        conn.commit()
        raise
    log.info("%s: loaded %s rows as batch %s of %s for %s", path, rows, batch_id, feed.id, extract_date)
    return LoadResult(feed.id, extract_date, str(path), "loaded", batch_id, rows)


def _attach(conn, feed: Feed, extract_date: date, batch_id: int, batch_table, rows: int) -> None:
    """Replace the (feed, extract date) partition with the new batch, atomically."""
    with conn.cursor() as cur:
        parent = sql.Identifier(feed.id)
        cur.execute(sql.SQL("lock table raw.{} in access exclusive mode").format(parent))
        cur.execute(
            "select batch_id from raw.load_manifest where feed = %s and extract_date = %s and status = 'loaded'",
            (feed.id, extract_date),
        )
        for (old_batch,) in cur.fetchall():
            old_table = sql.Identifier(f"{feed.id}__batch_{old_batch}")
            cur.execute(sql.SQL("drop table if exists raw.{}").format(old_table))
            cur.execute("update raw.load_manifest set status = 'replaced', "
                        "message = coalesce(message || '; ', '') || %s where batch_id = %s",
                        (f"replaced by batch {batch_id}", old_batch))
        cur.execute(sql.SQL("alter table raw.{} attach partition raw.{} for values in ({})").format(
            parent, batch_table, sql.Literal(extract_date)))
        cur.execute("update raw.load_manifest set status = 'loaded', rows_loaded = %s, finished_at = now() "
                    "where batch_id = %s", (rows, batch_id))
    conn.commit()


def _describe_copy_error(exc: psycopg2.Error) -> str:
    """PostgreSQL's COPY context ("COPY t, line 7, column team: ...") in our words."""
    diag = exc.diag
    where = (diag.context or "").split("\n")[0]
    detail = diag.message_primary or str(exc).strip()
    # COPY counts the header as line 1, as an editor does.
    if where.startswith("COPY "):
        where = where.split(",", 1)[1].strip() if "," in where else where
        return f"{where}: {detail}"
    return detail
