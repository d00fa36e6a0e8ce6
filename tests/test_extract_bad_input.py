"""Bad input, one test per kind: the message names file, line and column, and what was loaded before stays.

File-level problems reject the whole file; row-level problems send the row to
raw.quarantine and the rest loads. The defects are the generator's seeded ones
(synthetic.generate.FILE_DEFECTS / ROW_DEFECTS), so the same kinds can be produced
at any scale from the command line.
"""

from datetime import date, timedelta

import pytest

from extract.feeds import FEEDS_BY_ID
from synthetic.generate import FILE_DEFECTS, ROW_DEFECTS, generate_night
from extract.load import RejectedFile, load_file

from helpers import query

NIGHT = date(2026, 11, 22)
BAD_NIGHT = NIGHT + timedelta(days=1)


def raw_fingerprint(conn, feed):
    """Every row of the feed's raw table with its lineage, hashed: 'unchanged' means byte for byte."""
    return query(conn, f"select count(*), md5(coalesce(string_agg(t::text, '|' order by _extract_date, _row_number), ''))"
                       f" from {feed.raw_table} t")[0]


@pytest.fixture(scope="module")
def good_nights(tmp_path_factory):
    """Tonight's good files, loaded before each bad delivery."""
    return generate_night(tmp_path_factory.mktemp("good"), NIGHT, scale="tiny")


def _load_good(conn, feed, night):
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {feed.raw_table} cascade")
        if query(conn, "select to_regclass('raw.load_manifest') is not null")[0][0]:
            cur.execute("delete from raw.load_manifest where feed = %s", (feed.id,))
            cur.execute("delete from raw.quarantine where feed = %s", (feed.id,))
    conn.commit()
    return load_file(conn, feed, night.files[feed.id], NIGHT)


# The message each file-level defect must give: (kind, the words, the line, the column).
FILE_LEVEL = [
    ("missing_column", r"missing column\(s\) in_education", "line 1", None),
    ("unknown_column", r"unknown column\(s\) legacy_flag \(column 6\)", "line 1", None),
    ("empty_file", r"the file is empty", "line 1", "column 1"),
    ("truncated_file", r"truncated file: it ends in the middle of a line", "line ", "column "),
    ("wrong_delimiter", r"wrong delimiter: the header is separated by semicolons \(';'\)", "line 1", "column 1"),
    ("undecodable_bytes", r"undecodable bytes: the file is neither UTF-8 .* nor Windows-1252", "line ", "column "),
]


@pytest.mark.parametrize("kind, words, line, column", FILE_LEVEL, ids=[k for k, *_ in FILE_LEVEL])
def test_a_bad_file_is_rejected_naming_file_line_and_column_and_nothing_is_lost(
        conn, good_nights, tmp_path, kind, words, line, column):
    feed = FEEDS_BY_ID[FILE_DEFECTS[kind][0]]
    if kind == "missing_column":
        feed = FEEDS_BY_ID["crs__care_leavers"]  # its last column, in_education, goes missing
    _load_good(conn, feed, good_nights)
    # Two nights loaded: tonight's re-delivery must not disturb either.
    load_file(conn, feed, generate_night(tmp_path / "yesterday", NIGHT - timedelta(days=1), scale="tiny",
                                         feeds=[feed]).files[feed.id], NIGHT - timedelta(days=1))
    before = raw_fingerprint(conn, feed)

    bad = generate_night(tmp_path / "bad", NIGHT, scale="tiny", feeds=[feed], defects={kind: feed.id})
    path = bad.files[feed.id]
    with pytest.raises(RejectedFile) as err:
        load_file(conn, feed, path, NIGHT)
    message = str(err.value)
    assert message.startswith(f"{path}: {line}"), message
    assert __import__("re").search(words, message), message
    if column:
        assert column in message, message
    if kind == "truncated_file":
        lines = path.read_bytes().count(b"\n")
        assert f"line {lines + 1}, column " in message  # the last, cut-off line
    if kind == "undecodable_bytes":
        assert "0x81" in message and "column " in message

    assert raw_fingerprint(conn, feed) == before
    assert query(conn, "select status, message from raw.load_manifest where source_file = %s", (str(path),)) == [
        ("rejected", message)]
    assert query(conn, "select count(*) from pg_tables where schemaname = 'raw' and tablename like %s",
                 (f"{feed.id}__batch_%",))[0][0] == 2


def test_a_row_cut_short_inside_the_file_rejects_it_with_line_and_column(conn, good_nights, tmp_path):
    feed = FEEDS_BY_ID["crs__missing_episodes"]
    _load_good(conn, feed, good_nights)
    before = raw_fingerprint(conn, feed)
    lines = good_nights.files[feed.id].read_text().splitlines()
    lines[6] = lines[6].split(",", 2)[0] + "," + lines[6].split(",", 2)[1]  # line 7: two fields of seven
    bad = tmp_path / "missing_episodes.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(RejectedFile) as err:
        load_file(conn, feed, bad, NIGHT)
    assert str(err.value).startswith(f"{bad}: line 7, column missing_type: missing data for column")
    assert raw_fingerprint(conn, feed) == before


# --- row level: quarantined, the rest loads ------------------------------------------------------

ROW_LEVEL = [
    ("bad_date", "referral_date", r"referral_date: not a date \(YYYY-MM-DD\): '2026-02-30'"),
    ("unknown_code", "missing_type", "missing_type: unknown code: 'X'"),
    ("duplicate_key", "cp_plan_id", r"duplicate key \(cp_plan_id=.*\): first delivered on line \d+"),
    ("end_before_start", "end_date", "end before start: end_date 2025-06-01 before start_date 2025-06-10"),
]


@pytest.mark.parametrize("kind, column, reason", ROW_LEVEL, ids=[k for k, *_ in ROW_LEVEL])
def test_a_bad_row_is_quarantined_with_its_reason_and_line_and_the_rest_loads(
        conn, good_nights, tmp_path, kind, column, reason):
    import re

    feed = FEEDS_BY_ID[ROW_DEFECTS[kind][0]]
    earlier = _load_good(conn, feed, good_nights)
    yesterday = NIGHT - timedelta(days=1)
    load_file(conn, feed, generate_night(tmp_path / "y", yesterday, scale="tiny", feeds=[feed]).files[feed.id],
              yesterday)
    yesterday_before = query(conn, f"select count(*) from {feed.raw_table} where _extract_date = %s", (yesterday,))

    bad = generate_night(tmp_path / "bad", NIGHT, scale="tiny", feeds=[feed], defects=[kind])
    path = bad.files[feed.id]
    bad_rows = 1 if kind == "duplicate_key" else 3
    assert bad.rows[feed.id] == earlier.rows + bad_rows

    result = load_file(conn, feed, path, NIGHT)  # a corrected re-delivery of tonight's file, with bad rows
    assert result.status == "loaded" and result.rows_quarantined == bad_rows
    assert result.rows == earlier.rows
    quarantined = query(conn, "select line_number, column_name, reason, original_line, source_file "
                              "from raw.quarantine_current where feed = %s order by line_number", (feed.id,))
    assert len(quarantined) == bad_rows
    lines = path.read_text().splitlines()
    for line_number, column_name, why, original, source_file in quarantined:
        assert column_name == column and source_file == str(path)
        assert original == lines[line_number - 1]  # the row as delivered, from its line
    assert re.search(reason, quarantined[0][2]), quarantined[0][2]
    # Every other row loaded, and none of the quarantined ones did.
    assert query(conn, f"select count(*) from {feed.raw_table} where _extract_date = %s", (NIGHT,))[0][0] == earlier.rows
    assert query(conn, f"select count(*) from {feed.raw_table} where _extract_date = %s", (yesterday,)) == yesterday_before
    assert query(conn, "select rows_quarantined, message from raw.load_manifest where batch_id = %s",
                 (result.batch_id,)) == [(bad_rows, f"{bad_rows} row(s) quarantined")]
    if kind != "duplicate_key":
        assert query(conn, f"select count(*) from {feed.raw_table} where {feed.key[-1]} like '%%DEFECT%%'")[0][0] == 0


# --- files that are not UTF-8/Windows-1252 text at all, and over-long fields ------------------------

def _utf16(text: str, bom: bool) -> bytes:
    return text.encode("utf-16") if bom else text.encode("utf-16-le")


NOT_TEXT = [
    ("utf16_with_bom", lambda good: _utf16(good, bom=True),
     r"line 1: the file is encoded as UTF-16LE \(with a byte-order mark\), not UTF-8 or Windows-1252"),
    ("utf16_without_bom", lambda good: _utf16(good, bom=False),
     r"line 1: the file is encoded as UTF-16LE \(without a byte-order mark\)"),
    ("binary_garbage", lambda good: bytes(range(256)) * 40,
     r"line 1, byte 1: not a CSV text file: it holds binary data \(a NUL byte\)\."),
    ("excel_workbook", lambda good: b"PK\x03\x04\x14\x00\x06\x00" + bytes(200),
     r"not a CSV text file: it holds binary data \(a NUL byte\), and starts like a ZIP archive \(an Excel .xlsx"),
]


@pytest.mark.parametrize("kind, content, words", NOT_TEXT, ids=[k for k, *_ in NOT_TEXT])
def test_a_file_that_is_not_text_is_rejected_naming_the_file_and_what_it_is(conn, good_nights, tmp_path, kind,
                                                                            content, words):
    import re

    feed = FEEDS_BY_ID["crs__referrals"]
    _load_good(conn, feed, good_nights)
    before = raw_fingerprint(conn, feed)
    path = tmp_path / feed.file_name
    path.write_bytes(content(good_nights.files[feed.id].read_text()))

    with pytest.raises(RejectedFile) as err:
        load_file(conn, feed, path, NIGHT)

    message = str(err.value)
    assert message.startswith(f"{path}: line "), message
    assert re.search(words, message), message
    assert "\x00" not in message
    assert raw_fingerprint(conn, feed) == before
    [(status, recorded, encoding)] = query(conn, "select status, message, file_encoding from raw.load_manifest "
                                                 "where source_file = %s", (str(path),))
    assert (status, recorded) == ("rejected", message)
    assert encoding == ("UTF-16LE" if kind.startswith("utf16") else None)


def test_a_field_over_128_kib_is_quarantined_and_the_rest_loads(conn, good_nights, tmp_path):
    """The limit is Python's csv module's (128 KiB), which tools reading these files use: every row
    the warehouse keeps can be read by them. (COPY alone would take a field of up to 1 GB.)"""
    import csv

    from extract.load import MAX_FIELD_BYTES

    feed = FEEDS_BY_ID["crs__referrals"]
    earlier = _load_good(conn, feed, good_nights)
    lines = good_nights.files[feed.id].read_text().splitlines()
    header = lines[0].split(",")
    over, at_limit = next(csv.reader([lines[5]])), next(csv.reader([lines[6]]))
    over[header.index("team")] = "x" * (MAX_FIELD_BYTES + 1)  # line 6: one byte over
    at_limit[header.index("team")] = "y" * MAX_FIELD_BYTES  # line 7: exactly the limit, loads
    lines[5], lines[6] = ",".join(over), ",".join(at_limit)
    path = tmp_path / feed.file_name
    path.write_text("\n".join(lines) + "\n")

    result = load_file(conn, feed, path, NIGHT)

    assert (result.status, result.rows_quarantined, result.rows) == ("loaded", 1, earlier.rows - 1)
    [(line, column, reason)] = query(conn, "select line_number, column_name, reason from raw.quarantine_current "
                                           "where feed = %s", (feed.id,))
    assert (line, column) == (6, "team")
    assert reason == (f"team: value longer than the {MAX_FIELD_BYTES}-byte limit ({MAX_FIELD_BYTES + 1} bytes): "
                      "a stray quote may have joined lines into it")
    assert query(conn, f"select octet_length(team) from {feed.raw_table} where _extract_date = %s "
                       "and referral_id = %s", (NIGHT, at_limit[0])) == [(MAX_FIELD_BYTES,)]
    # What the warehouse kept, a standard CSV reader of the same file reads too.
    assert csv.field_size_limit() == MAX_FIELD_BYTES
