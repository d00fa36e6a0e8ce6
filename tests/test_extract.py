"""The extract layer: generator and COPY loader against the real PostgreSQL."""

import csv
from datetime import date

import pytest

from extract.feeds import CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS, FEEDS
from extract.generate import generate_night
from extract.load import RejectedFile, load_file

from helpers import query

NIGHT = date(2026, 11, 22)


def test_generator_is_seeded_and_consistent(tmp_path):
    a = generate_night(tmp_path / "a", NIGHT, scale="tiny", seed=7)
    b = generate_night(tmp_path / "b", NIGHT, scale="tiny", seed=7)
    c = generate_night(tmp_path / "c", NIGHT, scale="tiny", seed=8)
    for feed in FEEDS:
        assert a.files[feed.id].read_bytes() == b.files[feed.id].read_bytes()
    assert a.files[CRS_MISSING_EPISODES.id].read_bytes() != c.files[CRS_MISSING_EPISODES.id].read_bytes()
    with a.files[CRS_MISSING_EPISODES.id].open() as fh:
        episodes = list(csv.DictReader(fh))
    with a.files[CRS_RETURN_HOME_INTERVIEWS.id].open() as fh:
        interviews = list(csv.DictReader(fh))
    assert list(episodes[0]) == list(CRS_MISSING_EPISODES.column_names)
    # Every interview follows an episode that was recorded and has ended.
    ended = {e["episode_id"] for e in episodes if e["missing_end"]}
    assert interviews and {i["episode_id"] for i in interviews} <= ended
    assert {e["missing_type"] for e in episodes} <= {"M", "A"}


def test_borough_scale_is_about_the_size_of_the_borough(tmp_path):
    night = generate_night(tmp_path, NIGHT, scale="borough")
    assert 1800 <= night.rows[CRS_MISSING_EPISODES.id] <= 2600


def _fresh_feed(conn, feed):
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {feed.raw_table} cascade")
        cur.execute("delete from raw.load_manifest where feed = %s" if _has_manifest(conn) else "select 1",
                    (feed.id,))
    conn.commit()


def _has_manifest(conn):
    return query(conn, "select to_regclass('raw.load_manifest') is not null")[0][0]


def test_load_is_complete_with_lineage_and_idempotent(settings, conn, tmp_path):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    night = generate_night(tmp_path, NIGHT, scale="tiny")
    path = night.files[feed.id]

    first = load_file(conn, feed, path, NIGHT)
    assert first.status == "loaded" and first.rows == night.rows[feed.id]
    [(rows, first_row, last_row, files, batch)] = query(
        conn, f"select count(*), min(_row_number), max(_row_number), count(distinct _source_file), max(_batch_id) "
              f"from {feed.raw_table}")
    assert (rows, first_row, last_row, files, batch) == (night.rows[feed.id], 1, night.rows[feed.id], 1,
                                                          first.batch_id)
    # Row numbers point back at the file: row n is line n + 1.
    with path.open() as fh:
        third = list(csv.DictReader(fh))[2]
    assert query(conn, f"select episode_id from {feed.raw_table} where _row_number = 3")[0][0] == third["episode_id"]

    again = load_file(conn, feed, path, NIGHT)
    assert again.status == "duplicate" and again.batch_id == first.batch_id
    assert query(conn, f"select count(*) from {feed.raw_table}")[0][0] == night.rows[feed.id]
    statuses = query(conn, "select status from raw.load_manifest where feed = %s order by batch_id", (feed.id,))
    assert [s for (s,) in statuses] == ["loaded", "duplicate"]


def test_corrected_redelivery_replaces_the_nights_batch(settings, conn, tmp_path):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    night = generate_night(tmp_path, NIGHT, scale="tiny")
    first = load_file(conn, feed, night.files[feed.id], NIGHT)
    other_night = generate_night(tmp_path / "other", date(2026, 11, 21), scale="tiny")
    load_file(conn, feed, other_night.files[feed.id], date(2026, 11, 21))

    corrected = night.files[feed.id].read_text().splitlines()[:-5]  # five rows withdrawn
    night.files[feed.id].write_text("\n".join(corrected) + "\n")
    second = load_file(conn, feed, night.files[feed.id], NIGHT)

    assert second.status == "loaded" and second.rows == night.rows[feed.id] - 5
    counts = dict(query(conn, f"select _extract_date, count(*) from {feed.raw_table} group by 1"))
    assert counts == {NIGHT: night.rows[feed.id] - 5, date(2026, 11, 21): other_night.rows[feed.id]}
    assert query(conn, "select status from raw.load_manifest where batch_id = %s", (first.batch_id,))[0][0] == "replaced"


def test_file_with_a_missing_column_is_rejected_and_nothing_is_lost(settings, conn, tmp_path):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    night = generate_night(tmp_path, NIGHT, scale="tiny")
    load_file(conn, feed, night.files[feed.id], NIGHT)

    bad = tmp_path / "bad.csv"
    lines = night.files[feed.id].read_text().splitlines()
    bad.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")  # drop the team column
    with pytest.raises(RejectedFile) as err:
        load_file(conn, feed, bad, NIGHT)
    assert str(bad) in str(err.value) and "line 1" in str(err.value) and "missing column(s) team" in str(err.value)
    assert query(conn, f"select count(*) from {feed.raw_table}")[0][0] == night.rows[feed.id]
    assert query(conn, "select status from raw.load_manifest where source_file = %s", (str(bad),)) == [("rejected",)]


def test_truncated_row_is_rejected_with_its_line(settings, conn, tmp_path):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    night = generate_night(tmp_path, NIGHT, scale="tiny")
    load_file(conn, feed, night.files[feed.id], NIGHT)
    lines = night.files[feed.id].read_text().splitlines()
    lines[6] = lines[6].split(",", 2)[0]  # line 7 of the file is cut short
    night.files[feed.id].write_text("\n".join(lines) + "\n")

    with pytest.raises(RejectedFile, match=r"line 7"):
        load_file(conn, feed, night.files[feed.id], NIGHT)
    # The night's previous batch is still the one loaded.
    assert query(conn, f"select count(*) from {feed.raw_table}")[0][0] == night.rows[feed.id]
    assert query(conn, "select count(*) from pg_tables where schemaname = 'raw' and tablename like %s",
                 (f"{feed.id}__batch_%",))[0][0] == 1
