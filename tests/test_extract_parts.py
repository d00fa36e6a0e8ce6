"""A big file is loaded in parts at once (extract/load.py, _load_in_parts): the same result as a whole load.

Real files are cut in parts from 64 MB; here `parts=` forces the cut on small files so that
every boundary case is cheap to build: bad rows and a repeated key on both sides of a cut,
quoted fields, a malformed line in a later part, a quoted line break, Windows-1252 and CRLF.
"""

from datetime import date

import pytest

from extract.feeds import CRS_VISITS
from extract.load import RejectedFile, load_file, scan_file

from helpers import query

FEED = CRS_VISITS
HEADER = ",".join(FEED.column_names)
FIRST_NIGHT = date(2040, 1, 1)  # this module's own extract dates: other tests never load these


def visit(n: int, **changes) -> str:
    row = {"visit_id": f"V{n:06d}", "person_id": f"P{n % 97:05d}", "worker_id": f"W{n % 13:03d}",
           "visit_date": f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}", "visit_type": ["CP", "CLA", "CIN"][n % 3],
           "seen_alone": "Y" if n % 2 else "N", "updated_at": f"2025-12-{n % 28 + 1:02d} 10:{n % 60:02d}"}
    row.update(changes)
    return ",".join(row[c] for c in FEED.column_names)


def write(path, lines, encoding="utf-8", newline="\n"):
    path.write_bytes((newline.join([HEADER, *lines]) + newline).encode(encoding))
    return path


@pytest.fixture
def nights(conn):
    """Extract dates for the test, and every batch loaded for them removed afterwards."""
    dates = iter(date(2040, 1, d) for d in range(1, 29))
    yield dates
    with conn.cursor() as cur:
        cur.execute("select batch_id from raw.load_manifest where feed = %s and extract_date >= %s",
                    (FEED.id, FIRST_NIGHT))
        for (batch_id,) in cur.fetchall():
            cur.execute(f'drop table if exists raw."{FEED.id}__batch_{batch_id}" cascade')
        cur.execute("delete from raw.quarantine where feed = %s and extract_date >= %s", (FEED.id, FIRST_NIGHT))
        cur.execute("delete from raw.load_manifest where feed = %s and extract_date >= %s", (FEED.id, FIRST_NIGHT))
    conn.commit()


def loaded_rows(conn, night):
    columns = ", ".join(FEED.column_names)
    return query(conn, f"select {columns}, _row_number, _feed, _source_file from {FEED.raw_table} "
                       "where _extract_date = %s order by _row_number", (night,))


def quarantined(conn, batch_id):
    return query(conn, "select row_number, line_number, column_name, reason, original_line from raw.quarantine "
                       "where batch_id = %s order by row_number, column_name, reason", (batch_id,))


def leftovers(conn, batch_id):
    """Tables and sequences made for the batch, other than the batch table itself."""
    return query(conn, "select relname from pg_class where relnamespace = 'raw'::regnamespace "
                       "and starts_with(relname, %s)", (f"{FEED.id}__batch_{batch_id}__",))


def test_scan_cuts_at_line_starts_outside_quoted_fields(tmp_path):
    lines = [visit(n) for n in range(1, 200)]
    # A quoted value holding a line break, a comma and a doubled quote, where the middle cut falls.
    lines[99] = visit(100, worker_id='"W 1,\n""2"""')
    path = write(tmp_path / "visits.csv", lines)
    data = path.read_bytes()
    scan = scan_file(path, parts=4)
    assert len(scan.part_starts) == 3
    for offset, line in scan.part_starts:
        assert data[offset - 1:offset] == b"\n"
        assert data[:offset].count(b'"') % 2 == 0, "a part must not start inside a quoted field"
        assert data[:offset].count(b"\n") + 1 == line
    assert scan_file(path).part_starts == ()


def test_parts_load_exactly_what_a_whole_load_does(conn, nights, tmp_path):
    lines = [visit(n) for n in range(1, 3001)]
    lines[9] = visit(10, visit_date="2025-02-30")  # bad rows in each part
    lines[1499] = visit(1500, visit_type="XX")
    lines[2999] = visit(3000, seen_alone="")
    lines[2500] = visit(5, worker_id="W005")  # visit V000005 again, in the last part: a repeated key across parts
    lines[1200] = visit(1201, person_id='"P,1 ""quoted"""')  # a quoted field, as delivered
    path = write(tmp_path / "visits.csv", lines)

    whole_night, parts_night = next(nights), next(nights)
    whole = load_file(conn, FEED, path, whole_night, parts=1)
    parts = load_file(conn, FEED, path, parts_night, parts=3)

    assert scan_file(path, parts=3).part_starts, "the file was not cut"
    assert parts.seconds.keys() == whole.seconds.keys()
    assert (parts.status, parts.rows, parts.rows_quarantined) == ("loaded", 2996, 4)
    assert (whole.rows, whole.rows_quarantined) == (parts.rows, parts.rows_quarantined)
    assert loaded_rows(conn, parts_night) == loaded_rows(conn, whole_night)
    assert quarantined(conn, parts.batch_id) == quarantined(conn, whole.batch_id)
    assert query(conn, f"select count(distinct _loaded_at), min(_batch_id), max(_batch_id) from {FEED.raw_table} "
                       "where _extract_date = %s", (parts_night,)) == [(1, parts.batch_id, parts.batch_id)]
    reasons = {row[0]: row[3] for row in quarantined(conn, parts.batch_id)}
    assert reasons[2501].startswith("duplicate key (visit_id=V000005): first delivered on line 6")
    assert reasons[10] == "visit_date: not a date (YYYY-MM-DD): '2025-02-30'"
    # The batch is one partition of the feed's table (itself made of the parts); nothing else is left.
    assert query(conn, "select count(*) from pg_inherits where inhparent = %s::regclass",
                 (f'raw."{FEED.id}__batch_{parts.batch_id}"',)) == [(3,)]
    # Planner statistics for the batch as a whole and for each part, before it is published.
    assert query(conn, "select tablename ~ '__part_', inherited, count(*) > 0 from pg_stats where schemaname = 'raw' "
                       "and tablename like %s group by 1, 2 order by 1, 2", (f"{FEED.id}__batch_{parts.batch_id}%",)
                 ) == [(False, True, True), (True, False, True)]
    assert sorted(leftovers(conn, parts.batch_id)) == [(f"{FEED.id}__batch_{parts.batch_id}__part_{k}",)
                                                       for k in range(3)]


def test_a_malformed_line_in_a_later_part_is_named_by_its_line_in_the_file(conn, nights, tmp_path):
    lines = [visit(n) for n in range(1, 1001)]
    lines[899] = visit(900) + ",an extra field"  # line 901 of the file, in the last of two parts
    path = write(tmp_path / "visits.csv", lines)
    night = next(nights)
    with pytest.raises(RejectedFile) as raised:
        load_file(conn, FEED, path, night, parts=2)
    assert f"{path}: line 901" in str(raised.value) and "extra data after last expected column" in str(raised.value)
    [(batch_id, status, message)] = query(conn, "select batch_id, status, message from raw.load_manifest "
                                                "where feed = %s and extract_date = %s", (FEED.id, night))
    assert (status, message) == ("rejected", str(raised.value))
    assert loaded_rows(conn, night) == []
    assert leftovers(conn, batch_id) == []
    assert query(conn, "select to_regclass(%s)", (f'raw."{FEED.id}__batch_{batch_id}"',)) == [(None,)]


def test_a_line_break_inside_a_quoted_field_loads_the_file_whole(conn, nights, tmp_path):
    lines = [visit(n) for n in range(1, 1001)]
    lines[100] = visit(101, worker_id='"W1\nW2"')  # one row on two lines, before the cut
    path = write(tmp_path / "visits.csv", lines)
    whole_night, parts_night = next(nights), next(nights)
    whole = load_file(conn, FEED, path, whole_night, parts=1)
    parts = load_file(conn, FEED, path, parts_night, parts=2)
    assert parts.rows == whole.rows == 1000
    assert loaded_rows(conn, parts_night) == loaded_rows(conn, whole_night)
    assert loaded_rows(conn, parts_night)[999][FEED.column_names.index("visit_id")] == "V001000"
    assert leftovers(conn, parts.batch_id) == []  # loaded whole: no parts


def test_windows_1252_and_crlf_load_in_parts_as_utf8_does(conn, nights, tmp_path):
    lines = [visit(n, worker_id=f"W£{n}") for n in range(1, 1001)]
    utf8 = write(tmp_path / "utf8.csv", lines)
    cp1252 = write(tmp_path / "cp1252.csv", lines, encoding="cp1252", newline="\r\n")
    utf8_night, cp1252_night = next(nights), next(nights)
    load_file(conn, FEED, utf8, utf8_night, parts=1)
    loaded = load_file(conn, FEED, cp1252, cp1252_night, parts=2)
    assert loaded.rows == 1000
    strip = lambda rows: [r[:-1] for r in rows]  # noqa: E731  (all but the source file)
    assert strip(loaded_rows(conn, cp1252_night)) == strip(loaded_rows(conn, utf8_night))
