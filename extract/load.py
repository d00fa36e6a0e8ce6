"""Load a night's files into the raw zone with PostgreSQL COPY.

How a file becomes a batch, and why:

* **Inspect the file in one streaming pass** (constant memory): its SHA-256, its
  encoding (UTF-8 with or without a byte-order mark, else Windows-1252, the two
  encodings council exports arrive in), that it ends with a line break (a file
  cut short does not), and the header against the feed declaration. Any problem
  here is a *file-level* problem: the file is rejected before anything is loaded,
  the manifest records why, and the error names the file, line and column.
* **COPY into a new, empty table of its own** (nobody can see it yet), whose
  lineage columns are constant defaults and whose row number comes from a
  sequence, so COPY runs at full speed with no per-row work in Python and memory
  stays flat whatever the file size. COPY converts the file's encoding and reads
  LF or CRLF line ends. A malformed line (too few or too many fields, an
  unterminated quote) rejects the file, with COPY's line and column.
* **Row checks in SQL**, on the batch table, set-based, from the declaration:
  a value that is not a date, date-time or number, an unknown code, an empty
  required value, a duplicate key within the batch, an end before its start.
  Each problem is written to ``raw.quarantine`` (reason, column, line, the row as
  delivered) and the row is removed from the batch; the rest loads.
  Needs PostgreSQL 16 or later (``pg_input_is_valid``).
* **Publish the batch in one short transaction**: detach and drop the previous
  partition for the same extract date (a corrected re-delivery), attach the new
  one, and record both in ``raw.load_manifest``. Readers see the old batch or the
  new one, never half of either.
* The same file delivered twice (same feed, date and SHA-256) is recorded in the
  manifest as a duplicate and not loaded again.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from warehouse.raw_zone import RAW_DDL

from . import feeds
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

MINIMUM_SERVER_VERSION = 160000  # pg_input_is_valid arrived in PostgreSQL 16

NUMBER_PATTERN = feeds.VALUE_PATTERNS[feeds.NUMBER]
# The longest value a field may hold: 128 KiB, the limit of Python's csv module, which the
# partners' and our own tools read these files with. No declared column is free text anywhere
# near that long; a value that long is nearly always a stray quote that joined many lines into
# one field. Such a row is quarantined (reason, column, line), like any other bad value, so the
# warehouse holds no row a standard CSV reader of the same file would fail on (docs/feeds.md).
MAX_FIELD_BYTES = 128 * 1024
UTF8_BOM = codecs.BOM_UTF8
# Bytes Windows-1252 leaves undefined: a file holding one is neither UTF-8 nor Windows-1252.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
OTHER_DELIMITERS = (";", "\t", "|")


class RejectedFile(Exception):
    """A file that does not match its feed declaration. The message names file, line and column.

    ``encoding``: the file's encoding when that is what is wrong (UTF-16), for the manifest."""

    def __init__(self, message: str, encoding: str | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding


@dataclass(frozen=True)
class LoadResult:
    feed: str
    extract_date: date
    source_file: str
    status: str  # loaded | duplicate
    batch_id: int
    rows: int
    rows_quarantined: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # time spent in each step, for logs and the benchmark


@dataclass(frozen=True)
class FileFacts:
    """What one pass over the file found out."""

    sha256: str
    size: int
    encoding: str  # PostgreSQL's name: UTF8 or WIN1252
    lines: int  # line breaks in the file
    header: tuple[str, ...]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_raw_table(cur, feed: Feed) -> None:
    """The partitioned parent table of a feed: its columns as text, then lineage.

    Raw keeps every value exactly as delivered (text); staging types it. The loader's
    row checks guarantee every value in raw casts to its declared type.
    """
    columns = [sql.SQL("{} text").format(sql.Identifier(c)) for c in feed.column_names]
    columns += [sql.SQL("{} {} not null").format(sql.Identifier(n), sql.SQL(t)) for n, t in LINEAGE_COLUMNS]
    columns.append(sql.SQL("_row_number bigint not null"))
    cur.execute(sql.SQL("create table if not exists raw.{} ({}) partition by list (_extract_date)").format(
        sql.Identifier(feed.id), sql.SQL(", ").join(columns)))
    # Columns added to a declaration later are added to raw (older batches hold nulls there).
    for column in feed.column_names:
        cur.execute(sql.SQL("alter table raw.{} add column if not exists {} text").format(
            sql.Identifier(feed.id), sql.Identifier(column)))
    cur.execute(sql.SQL("comment on table raw.{} is %s").format(sql.Identifier(feed.id)), (feed.description,))


# --- file-level checks ----------------------------------------------------------------------


def _column_at(path: Path, line_start: int, offset: int, header: tuple[str, ...] | None) -> str:
    """Name the CSV column that byte `offset` falls in, reading its line from `line_start`."""
    with path.open("rb") as fh:
        fh.seek(line_start)
        prefix = fh.read(offset - line_start).decode("latin-1")
    fields = _csv_fields(prefix) or [""]
    index = max(0, len(fields) - 1)
    if header and index < len(header):
        return f"column {header[index]}"
    return f"column {index + 1}"


@dataclass(frozen=True)
class Scan:
    """The raw facts of one pass over a file; ``check_file`` judges them."""

    sha256: str
    size: int
    lines: int  # line breaks in the file
    ends_with_line_break: bool
    last_line_start: int  # byte offset of the last line
    utf8_error: tuple[int, int, int] | None  # (byte offset, line, offset of that line's start)
    cp1252_error: tuple[int, int, int] | None
    # Where each part after the first starts, for a file loaded in parts: (byte offset, line number
    # of the line starting there). Always the start of a line outside any quoted field.
    part_starts: tuple[tuple[int, int], ...] = ()
    # (byte offset, line) of the first NUL byte, which no UTF-8 or Windows-1252 text holds: a
    # UTF-16 file or binary data (check_file says which).
    nul_at: tuple[int, int] | None = None


def scan_file(path: Path, parts: int = 1) -> Scan:
    """Checksum, line count and encoding evidence in one streaming pass (1 MB at a time).

    With ``parts`` > 1 it also finds where to cut the file into that many parts of about the
    same size: at a line break outside any quoted field. A line break is inside a quoted field
    exactly when an odd number of double quotes precede it in the file (a quote inside a quoted
    field is written twice), which is how PostgreSQL's COPY splits lines too.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_error = cp1252_error = nul_at = None
    size = lines = last_line_start = quotes = 0
    last_byte = b""
    total = Path(path).stat().st_size
    cut_at = [total * k // parts for k in range(1, parts)]  # a part starts at the first line after each
    part_starts: list[tuple[int, int]] = []
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            while cut_at and cut_at[0] < size + len(chunk):
                search = max(0, cut_at[0] - size)
                while (newline := chunk.find(b"\n", search)) >= 0:
                    if (quotes + chunk.count(b'"', 0, newline)) % 2 == 0:
                        part_starts.append((size + newline + 1, lines + chunk.count(b"\n", 0, newline + 1) + 1))
                        cut_at.pop(0)
                        break
                    search = newline + 1
                else:
                    cut_at[0] = size + len(chunk)  # no line ends outside quotes in this chunk: try the next
                    break
            quotes += chunk.count(b'"')
            digest.update(chunk)
            if nul_at is None and (nul := chunk.find(b"\0")) >= 0:
                nul_at = (size + nul, lines + chunk.count(b"\n", 0, nul) + 1)
            # Most chunks are plain ASCII: valid in both encodings, so there is nothing to decode
            # unless the last chunk ended inside a multi-byte character (halves this pass on a 1 GB file).
            plain_ascii = chunk.isascii() and utf8.getstate()[0] == b""
            if utf8_error is None and not plain_ascii:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_error = _locate(chunk, exc.start, size, lines, last_line_start)
            if cp1252_error is None and not plain_ascii:
                positions = [p for p in (chunk.find(b) for b in CP1252_UNDEFINED) if p >= 0]
                if positions:
                    cp1252_error = _locate(chunk, min(positions), size, lines, last_line_start)
            newlines = chunk.count(b"\n")
            if newlines:
                last_line_start = size + chunk.rfind(b"\n") + 1
            lines += newlines
            size += len(chunk)
            last_byte = chunk[-1:]
    if utf8_error is None:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a multi-byte character
            utf8_error = (size - 1, lines + 1, last_line_start)
    # Every part holds rows: none starts at the end of the file or before the first row's end,
    # and two cuts on one line make one part.
    part_starts = list(dict.fromkeys(p for p in part_starts if p[0] < size and p[1] > 2))
    return Scan(digest.hexdigest(), size, lines, last_byte == b"\n", last_line_start, utf8_error, cp1252_error,
                tuple(part_starts), nul_at)


def check_file(path: Path, feed: Feed, scan: Scan) -> FileFacts:
    """File-level checks: empty, undecodable, header, truncated. Raises RejectedFile naming line and column."""
    if scan.size == 0 or not _first_line(path).strip():
        raise RejectedFile(f"{path}: line 1, column 1: the file is empty; expected a header with the columns "
                           f"{', '.join(c.label for c in feed.columns)}")
    check_text_file(path, scan)
    if scan.utf8_error is None:
        encoding = "UTF8"
    elif scan.cp1252_error is None:
        encoding = "WIN1252"
    else:
        header = _header_guess(path)
        offset, line, start = scan.utf8_error
        where_utf8 = f"line {line}, {_column_at(path, start, offset, header)}"
        offset2, line2, start2 = scan.cp1252_error
        where_1252 = f"line {line2}, {_column_at(path, start2, offset2, header)}"
        raise RejectedFile(
            f"{path}: {where_utf8}: undecodable bytes: the file is neither UTF-8 (invalid byte "
            f"0x{_byte_at(path, offset):02x} at {where_utf8}) nor Windows-1252 (byte 0x{_byte_at(path, offset2):02x} "
            f"is undefined there, at {where_1252}). Ask the sender to export as UTF-8.")
    header = read_header(path, feed, encoding)
    if not scan.ends_with_line_break:
        where = _column_at(path, scan.last_line_start, scan.size, header)
        raise RejectedFile(f"{path}: line {scan.lines + 1}, {where}: truncated file: it ends in the middle of a line "
                           f"(in {where}, with no line break after it). Ask the sender to deliver the whole file again.")
    if scan.lines <= 1 and feed.snapshot:
        raise RejectedFile(f"{path}: line 2: the file has a header but no rows; feed {feed.id} is a full snapshot, "
                           "so an empty extract means the export failed")
    return FileFacts(scan.sha256, scan.size, encoding, scan.lines, header)


# Byte-order marks of the encodings a spreadsheet's "Unicode text" export writes (UTF-32 first: its
# little-endian mark begins with UTF-16's).
UNICODE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32LE"), (codecs.BOM_UTF32_BE, "UTF-32BE"),
                (codecs.BOM_UTF16_LE, "UTF-16LE"), (codecs.BOM_UTF16_BE, "UTF-16BE"))
# What binary files sent by mistake start with.
BINARY_SIGNATURES = ((b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
                     (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE2) document"),
                     (b"\x1f\x8b", "a gzip archive"), (b"%PDF", "a PDF document"))


def check_text_file(path: Path, scan: Scan) -> None:
    """Reject a file that is not text in a single-byte-based encoding: UTF-16 or UTF-32 (with or
    without a byte-order mark), or binary data. Their NUL bytes would otherwise reach the header
    check and PostgreSQL, which reject them with messages that name neither the file nor the cause."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    encoding = next((name for bom, name in UNICODE_BOMS if head.startswith(bom)), None)
    marked = encoding is not None
    if encoding is None and scan.nul_at is not None:
        # Latin text in UTF-16 without a mark: every other byte is NUL, on the side the encoding says.
        sample = head[: len(head) // 2 * 2]
        even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
        if odd_nuls > 0.8 * len(sample) / 2 and even_nuls == 0:
            encoding = "UTF-16LE"
        elif even_nuls > 0.8 * len(sample) / 2 and odd_nuls == 0:
            encoding = "UTF-16BE"
    if encoding is not None:
        raise RejectedFile(
            f"{path}: line 1: the file is encoded as {encoding} ({'with' if marked else 'without'} a byte-order mark), "
            "not UTF-8 or Windows-1252: ask the sender to export it as UTF-8 (Excel: \"CSV UTF-8\"). Nothing was "
            "loaded from it.", encoding=encoding)
    if scan.nul_at is not None:
        offset, line = scan.nul_at
        like = next((f", and starts like {what}" for signature, what in BINARY_SIGNATURES if head.startswith(signature)),
                    "")
        raise RejectedFile(
            f"{path}: line {line}, byte {offset + 1}: not a CSV text file: it holds binary data (a NUL byte){like}. "
            "Ask the sender for the feed's CSV export. Nothing was loaded from it.")


def _locate(chunk: bytes, position: int, chunk_offset: int, lines_before: int, line_start_before: int):
    newline = chunk.rfind(b"\n", 0, position)
    line_start = chunk_offset + newline + 1 if newline >= 0 else line_start_before
    return chunk_offset + position, lines_before + chunk.count(b"\n", 0, position) + 1, line_start


def _byte_at(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(1)[0]


def _first_line(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.readline(1 << 20)


def _header_guess(path: Path) -> tuple[str, ...] | None:
    text = _first_line(path).decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").rstrip("\r\n")
    if not text.isprintable():  # not a header at all: name columns by number
        return None
    fields = _csv_fields(text)
    return tuple(h.strip() for h in fields) if fields is not None else None


def _csv_fields(text: str) -> list[str] | None:
    """The CSV fields of one line of text; None when Python's csv module cannot split it (a field
    over its limit, MAX_FIELD_BYTES, or a NUL): used only to name a column in a message."""
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return None


def read_header(path: Path, feed: Feed, encoding: str = "UTF8") -> tuple[str, ...]:
    """The file's column names, checked against the feed declaration."""
    first = _first_line(path)
    if not first.strip():
        raise RejectedFile(f"{path}: line 1: the file is empty; expected a header with the columns "
                           f"{', '.join(c.label for c in feed.columns)}")
    text = first.decode("utf-8-sig" if encoding == "UTF8" else "cp1252")
    # Names match in any letter case (a return writes CHILD, the declaration stores child);
    # the batch table takes the declared names.
    fields = _csv_fields(text.rstrip("\r\n"))
    if fields is None:
        raise RejectedFile(f"{path}: line 1 (header): not a header: a column name is longer than "
                           f"{MAX_FIELD_BYTES} bytes. Expected the columns {', '.join(c.label for c in feed.columns)}")
    delivered = [h.strip() for h in fields]
    header = [h.lower() for h in delivered]
    expected = set(feed.column_names)
    if len(header) == 1 and feed.column_names[0] not in header:
        delimiter = next((d for d in OTHER_DELIMITERS if d in header[0]), None)
        if delimiter:
            name = {";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
            raise RejectedFile(
                f"{path}: line 1 (header), column 1: wrong delimiter: the header is separated by "
                f"{name}s ({delimiter!r}); feed {feed.id} files are comma-separated. "
                f"Expected the columns {', '.join(c.label for c in feed.columns)}")
    duplicated = sorted({delivered[i] for i, h in enumerate(header) if header.count(h) > 1})
    missing = [c.label for c in feed.columns if c.name not in header]
    unknown = [i for i, c in enumerate(header) if c not in expected]
    if missing or unknown or duplicated:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            positions = ", ".join(f"{delivered[i]} (column {i + 1})" for i in unknown)
            parts.append(f"unknown column(s) {positions}")
        if duplicated:
            parts.append(f"column(s) named twice: {', '.join(duplicated)}")
        raise RejectedFile(f"{path}: line 1 (header): {'; '.join(parts)}. "
                           f"Expected the columns of feed {feed.id}: {', '.join(c.label for c in feed.columns)}")
    return tuple(header)


# --- row-level checks -------------------------------------------------------------------------


def _value(column: str) -> sql.Composable:
    """The delivered value, empty counted as missing (COPY gives NULL for an unquoted empty field)."""
    return sql.SQL("nullif({}, '')").format(sql.Identifier(column))


def _is_valid(column: feeds.Column) -> sql.Composable | None:
    """SQL true when a present value of the column is well formed; None when anything goes."""
    v = _value(column.name)
    # Dates: the shape by LIKE and a real calendar date by pg_input_is_valid (together about
    # three times cheaper than a regular expression, and stricter: 2026-02-30 is not a date).
    if column.type == feeds.DATE:
        return sql.SQL("({v} like '____-__-__' and {v} not like '% %' and pg_input_is_valid({v}, 'date'))").format(v=v)
    if column.type == feeds.DATE_DMY:
        # The checking transaction sets DateStyle to DMY (CHECK_SETTINGS), so 13/11/2017 is the
        # 13th of November and 11/13/2017 is no date at all.
        return sql.SQL("({v} like '__/__/____' and {v} not like '% %' and pg_input_is_valid({v}, 'date'))").format(v=v)
    if column.type == feeds.DATETIME:
        return sql.SQL("({v} like '____-__-__ __:__' and {v} not like '% % %' and pg_input_is_valid({v}, 'timestamp'))"
                       ).format(v=v)
    if column.type == feeds.NUMBER:
        return sql.SQL("({v} ~ {p})").format(v=v, p=sql.Literal(NUMBER_PATTERN))
    if column.type in (feeds.CODE, feeds.FLAG):
        return sql.SQL("({v} = any({codes}))").format(v=v, codes=sql.Literal(list(column.codes)))
    return None


def row_problems(feed: Feed) -> list[tuple[str, sql.Composable, sql.Composable]]:
    """(column, SQL true when the row has this problem, SQL text of the reason) for each check."""
    problems = []
    for column in feed.columns:
        v = _value(column.name)
        problems.append((column.label, sql.SQL("octet_length({}) > {}").format(
            sql.Identifier(column.name), sql.Literal(MAX_FIELD_BYTES)), sql.SQL("{} || octet_length({}) || {}").format(
            sql.Literal(f"{column.label}: value longer than the {MAX_FIELD_BYTES}-byte limit ("),
            sql.Identifier(column.name), sql.Literal(" bytes): a stray quote may have joined lines into it"))))
        if column.required:
            problems.append((column.label, sql.SQL("{} is null").format(v),
                             sql.Literal(f"{column.label} is required but empty")))
        valid = _is_valid(column)
        if valid is None:
            continue
        what = {feeds.DATE: "not a date (YYYY-MM-DD)", feeds.DATE_DMY: "not a date (DD/MM/YYYY)",
                feeds.DATETIME: "not a date-time (YYYY-MM-DD HH:MM)",
                feeds.NUMBER: "not a number", feeds.CODE: "unknown code", feeds.FLAG: "not Y or N"}[column.type]
        problems.append((column.label, sql.SQL("({v} is not null and not {valid})").format(v=v, valid=valid),
                         sql.SQL("{} || quote_literal({})").format(sql.Literal(f"{column.label}: {what}: "), v)))
    if feed.start_end:
        start, end = (feed.column(c) for c in feed.start_end)
        cast = "date" if start.type in feeds.DATE_TYPES and end.type in feeds.DATE_TYPES else "timestamp"
        both_valid = sql.SQL("{} and {}").format(_is_valid(start), _is_valid(end))
        before = sql.SQL("(case when {both} then {e}::{t} < {s}::{t} else false end)").format(
            both=both_valid, e=_value(end.name), s=_value(start.name), t=sql.SQL(cast))
        problems.append((end.label, before, sql.SQL("{} || {} || ' before ' || {} || {}").format(
            sql.Literal(f"end before start: {end.label} "), _value(end.name), sql.Literal(f"{start.label} "),
            _value(start.name))))
    return problems


def _csv_field(column: str) -> sql.Composable:
    """A text column re-encoded as a CSV field, to show the row as it was delivered."""
    c = sql.Identifier(column)
    return sql.SQL("""case when {c} is null then '' when {c} = '' or {c} ~ '[",\\r\\n]' """
                   """then '"' || replace({c}, '"', '""') || '"' else {c} end""").format(c=c)


# Settings for the checking transaction only: hash the keys in memory, and let PostgreSQL
# split the scans over parallel workers (the batch table is committed, so workers can read it).
CHECK_SETTINGS = (
    "set local work_mem = '256MB'",
    "set local maintenance_work_mem = '1GB'",  # the key check's sort: in memory up to ~20 M rows
    "set local parallel_setup_cost = 0",
    "set local parallel_tuple_cost = 0",
    "set local min_parallel_table_scan_size = 0",
    # Day before month when a date is written with slashes (the DfE returns' dd/mm/yyyy);
    # ISO dates read the same under either setting.
    "set local datestyle = 'ISO, DMY'",
)


def _check_settings(cur, parallel: bool = True) -> None:
    for setting in CHECK_SETTINGS:
        cur.execute(setting)
    if not parallel:
        cur.execute("set local max_parallel_workers_per_gather = 0")


def quarantine_rows(cur, feed: Feed, batch_id: int, batch_table: sql.Composable, header: tuple[str, ...],
                    extract_date: date, source_file: str) -> int:
    """Move the batch's bad rows to raw.quarantine, one quarantine row per problem. Returns rows moved.

    Two set-based scans find the bad rows (a cheap predicate over every row; a unique index
    on the hashed keys, for keys delivered twice); only those rows are then explained, so a
    clean batch costs two scans and nothing more.
    """
    _check_settings(cur)
    bad_rows = sql.Identifier("bad_rows")
    find_bad_rows(cur, feed, batch_table, bad_rows, create_temporary=True)
    repeated = keys_repeated(cur, feed, batch_table, f"batch_{batch_id}_key")
    return explain_and_remove(cur, feed, batch_id, batch_table, header, extract_date, source_file, bad_rows,
                              repeated)


def find_bad_rows(cur, feed: Feed, table: sql.Composable, into: sql.Composable,
                  create_temporary: bool = False) -> int:
    """Put in table `into` the row number of every row of `table` with a problem (one scan).

    With create_temporary, `into` is created as a temporary table (dropped at commit) by
    CREATE TABLE AS, which PostgreSQL can run with parallel workers (INSERT ... SELECT it cannot).
    """
    problems = row_problems(feed)
    any_problem = sql.SQL(" or ").join(p for _, p, _ in problems) if problems else sql.SQL("false")
    query = sql.SQL("select _row_number from raw.{} where {}").format(table, any_problem)
    if create_temporary:
        cur.execute(sql.SQL("create temporary table {} on commit drop as ").format(into) + query)
    else:
        cur.execute(sql.SQL("insert into {} ").format(into) + query)
    return cur.rowcount


def keys_repeated(cur, feed: Feed, table: sql.Composable, index_name: str) -> bool:
    """False when no key of `table` is delivered twice; True when one may be (then check exactly).

    Builds a unique index on a 64-bit hash of each key column (parallel where the server
    allows). Equal keys have equal hashes, so if that index builds, no key is repeated. Sorting
    8-byte integers costs half of sorting the key text (1 GB file: 11 s against 23 s). When it
    fails, either a key is repeated or two different keys share a hash (about one chance in
    200,000 for 13 million keys): the exact check in explain_and_remove settles which.
    """
    cur.execute("savepoint unique_keys")
    try:
        cur.execute(sql.SQL("create unique index {} on raw.{} ({})").format(
            sql.Identifier(index_name), table, _key_hashes(feed)))
        cur.execute(sql.SQL("drop index raw.{}").format(sql.Identifier(index_name)))
        cur.execute("release savepoint unique_keys")
        return False
    except psycopg2.errors.UniqueViolation:
        cur.execute("rollback to savepoint unique_keys")
        return True


def _key_hash_list(feed: Feed) -> list[sql.Composable]:
    """A 64-bit hash of each key column (equal keys, equal hashes)."""
    return [sql.SQL('hashtextextended({} collate "C", 0)').format(sql.Identifier(k)) for k in feed.key]


def _key_hashes(feed: Feed) -> sql.Composable:
    return sql.SQL(", ").join(_key_hash_list(feed))


def explain_and_remove(cur, feed: Feed, batch_id: int, batch_table: sql.Composable, header: tuple[str, ...],
                       extract_date: date, source_file: str, bad_rows: sql.Composable, repeated: bool) -> int:
    """Quarantine the rows listed in `bad_rows` (each problem explained) and, when `repeated`, the
    later deliveries of any repeated key (the first row loads); remove them from the batch."""
    problems = row_problems(feed)
    original_line = sql.SQL(" || ',' || ").join(_csv_field(c) for c in header)
    # source_file: the delivered file, or an SQL expression over the batch's rows (alias b) for a
    # batch built from other tables, whose rows each carry their own lineage (returns/importer.py).
    common = sql.SQL("{batch}, {feed}, {date}, {file}").format(
        batch=sql.Literal(batch_id), feed=sql.Literal(feed.id), date=sql.Literal(extract_date),
        file=source_file if isinstance(source_file, sql.Composable) else sql.Literal(source_file))
    target = sql.SQL("insert into raw.quarantine (batch_id, feed, extract_date, source_file, row_number, "
                     "line_number, column_name, reason, original_line) ")
    cur.execute(sql.SQL("select exists (select 1 from {})").format(bad_rows))
    found = cur.fetchone()[0]
    if found:
        per_problem = sql.SQL(", ").join(
            sql.SQL("({}, case when {} then {} end)").format(sql.Literal(name), cond, reason)
            for name, cond, reason in problems)
        cur.execute(target + sql.SQL("""
            select {common}, b._row_number, b._row_number + 1, p.column_name, p.reason, {line}
            from raw.{batch} b join {bad_rows} using (_row_number)
            cross join lateral (values {per_problem}) as p(column_name, reason)
            where p.reason is not null""").format(
            common=common, line=original_line, batch=batch_table, bad_rows=bad_rows, per_problem=per_problem))
    if repeated:
        keys = sql.SQL(", ").join(sql.Identifier(k) for k in feed.key)
        cur.execute(sql.SQL("analyze raw.{}").format(batch_table))
        cur.execute(sql.SQL("create temporary table duplicate_keys on commit drop as "
                            "select {keys}, min(_row_number) as first_row from raw.{batch} "
                            "group by {keys} having count(*) > 1").format(keys=keys, batch=batch_table))
        found = found or cur.rowcount > 0
        key_text = sql.SQL(" || ', ' || ").join(
            sql.SQL("{} || '=' || coalesce({}, '')").format(sql.Literal(feed.column(k).label), sql.Identifier(k))
            for k in feed.key)
        cur.execute(target + sql.SQL("""
            select {common}, b._row_number, b._row_number + 1, {first_key}, 'duplicate key (' || {key_text}
                   || '): first delivered on line ' || (d.first_row + 1), {line}
            from raw.{batch} b join duplicate_keys d using ({keys})
            where b._row_number <> d.first_row""").format(
            common=common, first_key=sql.Literal(feed.column(feed.key[0]).label), key_text=key_text, line=original_line,
            batch=batch_table, keys=keys))
    if not found:
        return 0
    cur.execute(sql.SQL("""delete from raw.{batch} b using raw.quarantine q
                           where q.batch_id = {batch_id} and q.row_number = b._row_number""").format(
        batch=batch_table, batch_id=sql.Literal(batch_id)))
    return cur.rowcount


# --- the load -------------------------------------------------------------------------------


def _record(cur, feed: Feed | str, extract_date: date, path: Path, sha: str, size: int, status: str,
            message: str | None = None, encoding: str | None = None) -> int:
    """A row of raw.load_manifest. ``feed`` is a Feed, or a name for a file no feed could read."""
    message = message.replace("\0", "\\0") if message else message  # PostgreSQL text cannot hold NUL
    cur.execute(
        """insert into raw.load_manifest (feed, extract_date, source_file, file_sha256, file_bytes, status, message,
                                          file_encoding, finished_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, case when %s <> 'loading' then now() end) returning batch_id""",
        (feed if isinstance(feed, str) else feed.id, extract_date, str(path), sha, size, status, message, encoding,
         status),
    )
    return cur.fetchone()[0]


def loaded_batch_with(cur, feed: Feed, extract_date: date, sha: str) -> tuple[int, int, int] | None:
    """(batch id, rows, rows quarantined) of the published batch with this checksum, if any."""
    cur.execute("select batch_id, rows_loaded, coalesce(rows_quarantined, 0) from raw.load_manifest "
                "where feed = %s and extract_date = %s and status = 'loaded' and file_sha256 = %s",
                (feed.id, extract_date, sha))
    return cur.fetchone()


def check_server(cur) -> None:
    cur.execute("show server_version_num")
    version = int(cur.fetchone()[0])
    if version < MINIMUM_SERVER_VERSION:
        raise RuntimeError(f"the extract layer needs PostgreSQL 16 or later (pg_input_is_valid); the warehouse runs "
                           f"{version // 10000}")


def prepare(conn, feed: Feed) -> None:
    """The raw schema, manifest, quarantine and the feed's table (idempotent)."""
    with conn.cursor() as cur:
        check_server(cur)
        cur.execute("select pg_advisory_xact_lock(hashtext('safeguarding raw ddl'))")  # parallel loads
        cur.execute(RAW_DDL)
        ensure_raw_table(cur, feed)
    conn.commit()


# A file this big or bigger is loaded in parts, each by a connection of its own at the same
# time: PostgreSQL runs one COPY on one core, so a big file's COPY and its row checks would
# otherwise leave the other cores idle (docs/feeds.md, "Benchmark"). Smaller files gain little.
PARTS_FROM_BYTES = 64 << 20
LOAD_PARTS = 2


def load_file(conn, feed: Feed, path: Path, extract_date: date, parts: int | None = None) -> LoadResult:
    """Load one delivered file as the batch for (feed, extract_date). See the module docstring.

    ``parts``: load the file in that many parts at once (default: LOAD_PARTS for a file of
    PARTS_FROM_BYTES or more, else one). The result is the same either way.
    """
    path = Path(path)
    clock = _Clock()
    prepare(conn, feed)
    if parts is None:
        parts = LOAD_PARTS if path.stat().st_size >= PARTS_FROM_BYTES else 1
    scan = scan_file(path, parts)
    clock.lap("scan")
    sha, size = scan.sha256, scan.size
    with conn.cursor() as cur:
        already = loaded_batch_with(cur, feed, extract_date, sha)
        if already:
            _record(cur, feed, extract_date, path, sha, size, "duplicate",
                    f"same content as batch {already[0]}, which is already loaded")
            conn.commit()
            log.info("%s: already loaded as batch %s, skipped", path, already[0])
            return LoadResult(feed.id, extract_date, str(path), "duplicate", already[0], already[1], already[2])
    try:
        try:
            facts = check_file(path, feed, scan)
        except (csv.Error, UnicodeError, ValueError) as exc:  # a check that could not even read the file
            raise RejectedFile(f"{path}: line 1: cannot be read as a CSV file: {exc}") from None
    except RejectedFile as exc:
        with conn.cursor() as cur:
            _record(cur, feed, extract_date, path, sha, size, "rejected", str(exc), encoding=exc.encoding)
        conn.commit()
        raise
    with conn.cursor() as cur:
        batch_id = _record(cur, feed, extract_date, path, facts.sha256, size, "loading", encoding=facts.encoding)
        hold_batch_lock(cur, batch_id)  # before the row is visible: a `loading` row with a free lock is a dead load
    conn.commit()
    try:
        return _load_batch(conn, feed, path, extract_date, facts, scan, batch_id, clock)
    finally:
        release_batch_lock(conn, batch_id)


# A load in progress holds a session-level advisory lock on its batch. It goes with the session: when
# the loading process is killed or PostgreSQL restarts, the lock is free and the batch is seen as
# interrupted (extract/recovery.py). The check interval makes a server notice a vanished client within
# seconds even mid-statement, so its session (and lock) does not outlive the client for long.
CLIENT_CHECK_INTERVAL = "5s"


def batch_lock_key(batch_id: int) -> str:
    return f"safeguarding load of batch {batch_id}"


def hold_batch_lock(cur, batch_id: int) -> None:
    cur.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (batch_lock_key(batch_id),))
    cur.execute(f"set client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'")


def release_batch_lock(conn, batch_id: int) -> None:
    try:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (batch_lock_key(batch_id),))
        conn.commit()
    except psycopg2.Error:  # the connection is gone (and its lock with it)
        pass


def _load_batch(conn, feed: Feed, path: Path, extract_date: date, facts: FileFacts, scan: Scan, batch_id: int,
                clock: "_Clock") -> LoadResult:
    """COPY, check and attach a file recorded as `loading` (batch_id)."""
    batch_name = f"{feed.id}__batch_{batch_id}"
    batch_table = sql.Identifier(batch_name)
    loaded = None
    if scan.part_starts:
        loaded = _load_in_parts(conn, feed, path, extract_date, facts, batch_id, batch_name, scan, clock)
    if loaded is None:  # one part (or the parts did not line up: see _load_in_parts)
        loaded = _load_whole(conn, feed, path, extract_date, facts, batch_id, batch_name, clock)
    copied, quarantined = loaded

    rows = copied - quarantined
    try:
        _attach(conn, feed, extract_date, batch_id, batch_table, rows, quarantined)
    except BaseException as exc:
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"could not publish the batch: {exc}".strip())
        raise
    clock.lap("publish")
    if quarantined:
        log.warning("%s: %s row(s) quarantined (see raw.quarantine, batch %s)", path, quarantined, batch_id)
    log.info("%s: loaded %s rows as batch %s of %s for %s (%s)", path, rows, batch_id, feed.id, extract_date,
             ", ".join(f"{k} {v:.1f} s" for k, v in clock.laps.items()))
    return LoadResult(feed.id, extract_date, str(path), "loaded", batch_id, rows, quarantined, clock.laps)


def _batch_columns(feed: Feed, extract_date: date, first_row: int = 1, next_part_row: int | None = None,
                   row_sequence: str | None = None) -> sql.Composable:
    """Columns of a batch table (or of one part of it): the file's, the extract date, the row number."""
    columns = [sql.SQL("{} text").format(sql.Identifier(c)) for c in feed.column_names]
    columns.append(sql.SQL("_extract_date date not null default {}").format(sql.Literal(extract_date)))
    row_number = sql.SQL("_row_number bigint not null")
    if row_sequence:
        row_number += sql.SQL(" default nextval({})").format(sql.Literal(f"raw.{row_sequence}"))
    columns.append(row_number)
    # Lets ATTACH PARTITION skip scanning the batch to prove it belongs to the extract date.
    columns.append(sql.SQL("constraint of_this_extract_date check (_extract_date = {})").format(
        sql.Literal(extract_date)))
    if next_part_row is not None or first_row > 1:
        # A part's rows: its row numbers, computed from line numbers, must be the ones a whole load
        # gives. They are not if a quoted field holds a line break (then the part is refused here
        # and the file loaded whole); the bounds also let ATTACH skip its scan.
        bounds = sql.SQL("_row_number >= {}").format(sql.Literal(first_row))
        if next_part_row is not None:
            bounds += sql.SQL(" and _row_number < {}").format(sql.Literal(next_part_row))
        columns.append(sql.SQL("constraint rows_of_this_part check ({})").format(bounds))
    return sql.SQL(", ").join(columns)


def _copy_into(cur, conn, feed: Feed, path: Path, facts: FileFacts, table: str, row_sequence: str,
               first_row: int, extract_date: date, batch_id: int, loaded_at: datetime, columns: sql.Composable,
               start: int = 0, end: int | None = None, header: bool = True) -> int:
    """Create `table` and COPY the file (or bytes start..end of it) into it. Returns rows copied."""
    # Only the file's columns, the extract date (the partition key) and the row number are
    # written row by row. Row 1 is the first data row, on line 2 of the file. A sequence rather
    # than an identity column, because a partition may not have an identity column.
    cur.execute(sql.SQL("create sequence raw.{} start {} cache 10000").format(
        sql.Identifier(row_sequence), sql.Literal(first_row)))
    cur.execute(sql.SQL("create table raw.{} ({})").format(sql.Identifier(table), columns))
    # FREEZE: the table was created in this transaction, so its rows need no later vacuum freeze.
    copy = sql.SQL("copy raw.{} ({}) from stdin with (format csv, header {}, encoding {}, freeze true)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in facts.header),
        sql.SQL("true" if header else "false"), sql.Literal(facts.encoding))
    with path.open("rb") as fh:
        fh.seek(start)
        cur.copy_expert(copy.as_string(conn), _ByteRange(fh, end), size=1 << 20)
    copied = cur.rowcount
    cur.execute(sql.SQL("alter table raw.{} alter column _row_number drop default").format(sql.Identifier(table)))
    cur.execute(sql.SQL("drop sequence raw.{}").format(sql.Identifier(row_sequence)))
    # The rest of the lineage is the same for every row of the batch. Added after COPY with a
    # constant default, PostgreSQL keeps the value once in the catalogue (a "fast default")
    # instead of in every row, yet every row reads it: the row carries its lineage for free.
    # (Written into each row, it would more than double the bytes COPY writes.)
    cur.execute(sql.SQL("alter table raw.{} {}").format(sql.Identifier(table), _lineage_columns(
        feed, path, facts, batch_id, loaded_at)))
    return copied


def _lineage_columns(feed: Feed, path: Path, facts: FileFacts, batch_id: int, loaded_at: datetime) -> sql.Composable:
    lineage = {"_batch_id": batch_id, "_feed": feed.id, "_source_file": str(path),
               "_file_sha256": facts.sha256, "_loaded_at": loaded_at}
    return sql.SQL(", ").join(
        sql.SQL("add column {} {} not null default {}").format(
            sql.Identifier(name), sql.SQL(type_), sql.Literal(lineage[name]))
        for name, type_ in LINEAGE_COLUMNS if name in lineage)


class _ByteRange:
    """A binary file read from where it stands up to byte `end` (None: to the end), for COPY."""

    def __init__(self, fh, end: int | None) -> None:
        self.fh = fh
        self.left = None if end is None else end - fh.tell()

    def read(self, size: int = -1) -> bytes:
        if self.left is None:
            return self.fh.read(size)
        if self.left <= 0:
            return b""
        data = self.fh.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


def _load_whole(conn, feed: Feed, path: Path, extract_date: date, facts: FileFacts, batch_id: int,
                batch_name: str, clock: "_Clock") -> tuple[int, int]:
    """COPY the whole file into the batch table, then check its rows. Returns (copied, quarantined)."""
    batch_table = sql.Identifier(batch_name)
    try:
        with conn.cursor() as cur:
            copied = _copy_into(cur, conn, feed, path, facts, batch_name, f"{batch_name}__rows", 1, extract_date,
                                batch_id, datetime.now(timezone.utc), _batch_columns(feed, extract_date, row_sequence=f"{batch_name}__rows"))
        conn.commit()  # the batch table is committed but attached to nothing: no reader sees it
        clock.lap("copy")
    except psycopg2.Error as exc:
        conn.rollback()
        message = f"{path}: {_describe_copy_error(exc)}"
        _fail(conn, batch_id, batch_name, "rejected", message)
        raise RejectedFile(message) from None
    except BaseException as exc:  # interrupted (a killed task): leave nothing half-made behind
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"interrupted while loading: {exc!r}")
        raise
    try:
        with conn.cursor() as cur:
            quarantined = quarantine_rows(cur, feed, batch_id, batch_table, facts.header, extract_date, str(path))
        conn.commit()
        clock.lap("row_checks")
    except BaseException as exc:
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"row checks failed: {exc}".strip())
        raise
    return copied, quarantined


class _PartFailed(Exception):
    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


def _load_in_parts(conn, feed: Feed, path: Path, extract_date: date, facts: FileFacts, batch_id: int,
                   batch_name: str, scan: Scan, clock: "_Clock") -> tuple[int, int] | None:
    """Load the file in parts at once, one connection each; None when it must be loaded whole.

    Part k is the bytes from its start (a line start outside quotes, found by scan_file) to the
    next part's, COPYed into a table of its own whose row numbers start where a whole load's
    would (row = line - 1). Each connection then checks its own part's values, and, once every
    part is in, one share of the keys across all parts for repeats. The parts become the
    partitions of the batch table (partitioned by row number), and bad rows are explained and
    removed as in a whole load. A quoted field holding a line break shifts the row numbers: the
    parts' row counts then disagree with their line numbers and the file is loaded whole instead.
    """
    starts = [(0, 1)] + list(scan.part_starts)  # (byte offset, line number of the part's first line)
    first_rows = [1] + [line - 1 for _, line in scan.part_starts]
    ends = [offset for offset, _ in scan.part_starts] + [None]
    part_names = [f"{batch_name}__part_{k}" for k in range(len(starts))]
    bad_rows = f"{batch_name}__bad_rows"
    loaded_at = datetime.now(timezone.utc)  # one value for the whole batch, every part alike
    with conn.cursor() as cur:
        cur.execute(sql.SQL("create unlogged table raw.{} (_row_number bigint)").format(sql.Identifier(bad_rows)))
    conn.commit()

    def load_part(k: int, part_conn) -> tuple[int, bool]:
        next_row = first_rows[k + 1] if k + 1 < len(first_rows) else None
        with part_conn.cursor() as cur:
            copied = _copy_into(cur, part_conn, feed, path, facts, part_names[k], f"{part_names[k]}__rows",
                                first_rows[k], extract_date, batch_id, loaded_at,
                                _batch_columns(feed, extract_date, first_rows[k], next_row, f"{part_names[k]}__rows"),
                                start=starts[k][0], end=ends[k], header=k == 0)
        part_conn.commit()
        with part_conn.cursor() as cur:
            _check_settings(cur, parallel=False)  # each part has a core of its own already
            find_bad_rows(cur, feed, sql.Identifier(part_names[k]), sql.SQL("raw.{}").format(sql.Identifier(bad_rows)))
        part_conn.commit()
        # Keys: once every part is copied, each connection looks for repeats among one share of
        # the keys (by key hash) across all the parts: the shares are disjoint, so together they
        # cover every pair of rows, and the work is split evenly with no index written.
        every_part_copied.wait()
        with part_conn.cursor() as cur:
            _check_settings(cur, parallel=False)
            repeated = _keys_repeated_in_share(cur, feed, part_names, k)
        part_conn.commit()
        return copied, repeated

    def run_part(k: int) -> tuple[int, bool]:
        try:
            if k == 0:
                return load_part(0, conn)
            part_conn = _connect_like(conn)
            try:
                return load_part(k, part_conn)
            finally:
                part_conn.close()
        except BaseException as exc:
            every_part_copied.abort()  # the other parts stop waiting
            if k == 0:
                conn.rollback()
            raise _PartFailed(k, exc) from exc

    every_part_copied = threading.Barrier(len(starts))
    failures: list[_PartFailed] = []
    results: dict[int, tuple[int, bool]] = {}
    try:
        with ThreadPoolExecutor(max_workers=len(starts) - 1) as pool:
            others = {pool.submit(run_part, k): k for k in range(1, len(starts))}
            try:
                results[0] = run_part(0)
            except _PartFailed as exc:
                failures.append(exc)
            for future in others:
                try:
                    results[others[future]] = future.result()
                except _PartFailed as exc:
                    failures.append(exc)
    except BaseException as exc:  # interrupted (a killed task): leave nothing half-made behind
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"interrupted while loading: {exc!r}")
        raise
    clock.lap("copy")
    misaligned = any(isinstance(f.error, psycopg2.Error) and f.error.diag.constraint_name == "rows_of_this_part"
                     for f in failures)
    if not failures:
        copied_before = 0
        for k in range(len(starts)):
            misaligned = misaligned or first_rows[k] != copied_before + 1
            copied_before += results[k][0]
    if misaligned:
        log.info("%s: a quoted field holds a line break; loading the file whole instead of in parts", path)
        _drop_batch_tables(conn, batch_name)
        return None
    if failures:
        # A part that only stopped waiting for a failed one is not the cause.
        first = min(failures, key=lambda f: (isinstance(f.error, threading.BrokenBarrierError), f.index))
        if isinstance(first.error, psycopg2.Error):
            # COPY numbers the lines of what it was given: a later part's line 1 is the part's first line.
            message = f"{path}: {_describe_copy_error(first.error, starts[first.index][1] - 1 if first.index else 0)}"
            _fail(conn, batch_id, batch_name, "rejected", message)
            raise RejectedFile(message) from None
        _fail(conn, batch_id, batch_name, "failed", f"loading failed: {first.error!r}")
        raise first.error

    batch_table = sql.Identifier(batch_name)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create table raw.{} ({}) partition by range (_row_number)").format(
                batch_table, _batch_columns(feed, extract_date)))
            cur.execute(sql.SQL("alter table raw.{} {}").format(batch_table, _lineage_columns(
                feed, path, facts, batch_id, loaded_at)))
            for k, name in enumerate(part_names):
                upper = sql.Literal(first_rows[k + 1]) if k + 1 < len(first_rows) else sql.SQL("maxvalue")
                cur.execute(sql.SQL("alter table raw.{} attach partition raw.{} for values from ({}) to ({})").format(
                    batch_table, sql.Identifier(name), sql.Literal(first_rows[k]), upper))
            _check_settings(cur)
            repeated = any(r for _, r in results.values())
            quarantined = explain_and_remove(cur, feed, batch_id, batch_table, facts.header, extract_date, str(path),
                                             sql.SQL("raw.{}").format(sql.Identifier(bad_rows)), repeated)
            cur.execute(sql.SQL("drop table raw.{}").format(sql.Identifier(bad_rows)))
        conn.commit()
        clock.lap("row_checks")
    except BaseException as exc:
        conn.rollback()
        _fail(conn, batch_id, batch_name, "failed", f"row checks failed: {exc}".strip())
        raise
    return sum(copied for copied, _ in results.values()), quarantined


def _keys_repeated_in_share(cur, feed: Feed, part_names: list[str], share: int) -> bool:
    """True when a key may be repeated among the rows, in any part, whose key hash falls in `share`.

    Equal keys have equal hashes, so they fall in the same share; a share with as many distinct
    key hashes as rows has no repeated key (False). True means a key is repeated or two keys
    share a 64-bit hash: the exact check in explain_and_remove settles which.
    """
    hashes = _key_hash_list(feed)
    key_hash = hashes[0] if len(hashes) == 1 else sql.SQL("row({})").format(sql.SQL(", ").join(hashes))
    spread = sql.SQL(" # ").join(hashes)  # one 64-bit number per key, to deal the keys out evenly
    rows = sql.SQL(" union all ").join(
        sql.SQL("select {key_hash} as key_hash from raw.{part} where abs(mod({spread}, {shares})) = {share}").format(
            key_hash=key_hash, part=sql.Identifier(name), spread=spread, shares=sql.Literal(len(part_names)),
            share=sql.Literal(share))
        for name in part_names)
    cur.execute(sql.SQL("select count(*) - count(distinct key_hash) from ({}) as share").format(rows))
    return cur.fetchone()[0] > 0


def _connect_like(conn):
    """A second connection to the same database as the same user."""
    params = {k: v for k, v in conn.info.dsn_parameters.items() if v}
    if conn.info.password:
        params["password"] = conn.info.password
    return psycopg2.connect(**params)


def _drop_batch_tables(conn, batch_name: str) -> None:
    """Drop the batch table and everything made for it (its parts, their sequences, the bad-row list)."""
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute(sql.SQL("drop table if exists raw.{} cascade").format(sql.Identifier(batch_name)))
        cur.execute("select c.relname, c.relkind from pg_class c where c.relnamespace = 'raw'::regnamespace "
                    "and starts_with(c.relname, %s) and c.relkind in ('r', 'p', 'S') order by c.relkind",
                    (f"{batch_name}__",))
        for name, kind in cur.fetchall():
            what = "sequence" if kind == "S" else "table"
            cur.execute(sql.SQL("drop {} if exists raw.{} cascade").format(sql.SQL(what), sql.Identifier(name)))
    conn.commit()


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def _fail(conn, batch_id: int, batch_name: str, status: str, message: str) -> None:
    with conn.cursor() as cur:
        cur.execute("update raw.load_manifest set status = %s, message = %s, finished_at = now() "
                    "where batch_id = %s", (status, message, batch_id))
        cur.execute("delete from raw.quarantine where batch_id = %s", (batch_id,))
    conn.commit()
    _drop_batch_tables(conn, batch_name)


def _analyze(conn, batch_table) -> None:
    """Planner statistics for the batch before any reader sees it. Autovacuum analyzes a new table
    only a while after it is written, and the night's dbt build reads the batch straight after the
    load: without statistics the planner guesses, and a borough night's build took 53 s instead of
    10 (with autovacuum off; with it on, whatever part of the build ran before it got there)."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("analyze raw.{}").format(batch_table))  # a parted batch: its parts too
    conn.commit()


def _attach(conn, feed: Feed, extract_date: date, batch_id: int, batch_table, rows: int, quarantined: int) -> None:
    """Replace the (feed, extract date) partition with the new batch, atomically."""
    _analyze(conn, batch_table)  # before the lock: readers of the feed are not held up meanwhile
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
        cur.execute("update raw.load_manifest set status = 'loaded', rows_loaded = %s, rows_quarantined = %s, "
                    "message = case when %s > 0 then %s end, finished_at = now() where batch_id = %s",
                    (rows, quarantined, quarantined, f"{quarantined} row(s) quarantined", batch_id))
    conn.commit()


def _describe_copy_error(exc: psycopg2.Error, lines_before: int = 0) -> str:
    """PostgreSQL's COPY context ("COPY t, line 7, column team: ...") in our words.

    `lines_before`: lines of the file before the part COPY was given (0: the whole file).
    """
    diag = exc.diag
    where = (diag.context or "").split("\n")[0]
    detail = diag.message_primary or str(exc).strip()
    # COPY counts the header as line 1, as an editor does.
    if where.startswith("COPY "):
        where = where.split(",", 1)[1].strip() if "," in where else where
        where = where.split(":", 1)[0]  # "line 7, column team"; the value after ':' may hold personal data
        where = re.sub(r"^line (\d+)", lambda m: f"line {int(m.group(1)) + lines_before}", where)
        if "column" not in where:
            named = re.search(r'column "([^"]+)"', detail)
            if named:
                where += f", column {named.group(1)}"
            elif "extra data after last expected column" in detail:
                where += ", column beyond the last declared one"
        return f"{where}: {detail}"
    return detail
