"""The extract layer: generator and COPY loader against the real PostgreSQL."""

import csv
from datetime import date, timedelta

import pytest

from extract.feeds import (AGENCY_ASSIGNMENTS, CRS_CONTACTS, CRS_MISSING_EPISODES, CRS_PEOPLE,
                           CRS_RETURN_HOME_INTERVIEWS, FEEDS, HR_EMPLOYEES, HR_POSTS, POLICE_MISSING_NOTIFICATIONS,
                           PROVIDER_RETURN_INTERVIEWS)
from synthetic.generate import generate_night
from extract.load import RejectedFile, load_file

from helpers import query

NIGHT = date(2026, 11, 22)


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate_night(tmp_path_factory.mktemp("tiny"), NIGHT, scale="tiny")


def test_generator_is_seeded_and_writes_every_feed(tiny, tmp_path):
    b = generate_night(tmp_path / "b", NIGHT, scale="tiny")
    c = generate_night(tmp_path / "c", NIGHT, scale="tiny", seed=8)
    for feed in FEEDS:
        assert tiny.files[feed.id].read_bytes() == b.files[feed.id].read_bytes(), feed.id
        assert tiny.rows[feed.id] > 0, f"{feed.id} is empty at tiny scale"
        assert tiny.files[feed.id].parent.parts[-2:] == (feed.source, NIGHT.isoformat())
        with tiny.files[feed.id].open(newline="") as fh:
            assert next(csv.reader(fh)) == list(feed.column_names)
    assert tiny.files[CRS_MISSING_EPISODES.id].read_bytes() != c.files[CRS_MISSING_EPISODES.id].read_bytes()


def test_generated_feeds_agree_with_each_other(tiny):
    files = {feed_id: read_rows(path) for feed_id, path in tiny.files.items()}
    people = {r["person_id"] for r in files[CRS_PEOPLE.id]}
    episodes = {e["episode_id"]: e for e in files[CRS_MISSING_EPISODES.id]}
    # Every RHI follows an episode that was recorded and has ended.
    ended = {e for e, row in episodes.items() if row["missing_end"]}
    assert {i["episode_id"] for i in files[CRS_RETURN_HOME_INTERVIEWS.id]} <= ended
    assert {e["person_id"] for e in episodes.values()} <= people

    # The police notify episodes the council recorded (same child, overlapping times) and some it did not.
    council_starts = {(e["person_id"], e["missing_start"][:10]) for e in episodes.values()}
    notifications = files[POLICE_MISSING_NOTIFICATIONS.id]
    known = [n for n in notifications if n["crs_person_id"]]
    matched = [n for n in known if (n["crs_person_id"], n["reported_missing_at"][:10]) in council_starts]
    assert matched and len(matched) < len(known), "expected notified episodes both recorded and unrecorded"
    assert any(not n["crs_person_id"] and not n["nhs_number"] for n in notifications)  # children unknown to the council
    assert {n["crs_person_id"] for n in known} <= people

    # The provider's returns reference real episodes and real notifications.
    returns = files[PROVIDER_RETURN_INTERVIEWS.id]
    notification_ids = {n["notification_id"] for n in notifications}
    assert {r["crs_episode_id"] for r in returns if r["crs_episode_id"]} <= set(episodes)
    assert {r["police_notification_id"] for r in returns if r["police_notification_id"]} <= notification_ids
    assert any(not r["crs_episode_id"] and r["police_notification_id"] for r in returns)

    # Agency workers fill posts that are vacant: nobody employed holds the post while the assignment runs.
    posts = {(r["snapshot_date"], r["post_id"]) for r in files[HR_POSTS.id]}
    held = {(r["snapshot_date"], r["post_id"]) for r in files[HR_EMPLOYEES.id] if r["post_id"] and not r["leaving_date"]}
    snapshots = sorted({s for s, _ in posts})
    covering = 0
    for a in files[AGENCY_ASSIGNMENTS.id]:
        for snap in snapshots:
            if a["covering_post_id"] and a["start_date"] <= snap and (not a["end_date"] or a["end_date"] > snap):
                assert (snap, a["covering_post_id"]) in posts
                assert (snap, a["covering_post_id"]) not in held, a
                covering += 1
    assert covering > 0
    assert len(snapshots) == 12


def test_incremental_feeds_hold_everything_first_then_what_changed(tmp_path):
    first = generate_night(tmp_path, NIGHT, scale="tiny")
    second = generate_night(tmp_path, NIGHT + timedelta(days=1), scale="tiny")
    assert first.full == {"crs__contacts": True, "crs__visits": True}
    assert second.full == {"crs__contacts": False, "crs__visits": False}
    later = read_rows(second.files[CRS_CONTACTS.id])
    assert 0 < len(later) < first.rows[CRS_CONTACTS.id] / 20
    assert all(r["updated_at"] > f"{NIGHT.isoformat()} 23:59" for r in later)
    # The same contact agrees across nights, apart from what changed.
    earlier = {r["contact_id"]: r for r in read_rows(first.files[CRS_CONTACTS.id])}
    for row in later:
        if row["contact_id"] in earlier:
            assert row["contact_at"] == earlier[row["contact_id"]]["contact_at"]
    forced = generate_night(tmp_path / "forced", NIGHT + timedelta(days=1), scale="tiny", full=True)
    assert forced.rows[CRS_CONTACTS.id] > first.rows[CRS_CONTACTS.id]


@pytest.mark.slow
def test_borough_scale_is_about_the_size_of_the_borough(tmp_path):
    night = generate_night(tmp_path, NIGHT, scale="borough")
    cp = read_rows(night.files["crs__cp_plans"])
    assert 250 <= sum(1 for r in cp if not r["end_date"]) <= 550  # about 400 on a plan
    la = read_rows(night.files["crs__looked_after_episodes"])
    uasc = {r["person_id"] for r in read_rows(night.files[CRS_PEOPLE.id]) if r["uasc"] == "Y"}
    looked_after = {r["person_id"] for r in la if not r["end_date"]}
    assert 600 <= len(looked_after) <= 950 and 250 <= len(looked_after & uasc) <= 480  # 760, 364 UASC
    assert 600 <= night.rows["crs__care_leavers"] <= 1300  # about 800
    budgeted = sum(float(r["budgeted_fte"]) for r in read_rows(night.files[HR_POSTS.id])) / 12
    assert 300 <= budgeted <= 400  # 350 budgeted FTE


# --- loading ------------------------------------------------------------------------------------


def _fresh_feed(conn, feed):
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {feed.raw_table} cascade")
        if query(conn, "select to_regclass('raw.load_manifest') is not null")[0][0]:
            cur.execute("delete from raw.load_manifest where feed = %s", (feed.id,))
            cur.execute("delete from raw.quarantine where feed = %s", (feed.id,))
    conn.commit()


def test_load_is_complete_with_lineage_and_idempotent(conn, tiny):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    path = tiny.files[feed.id]

    first = load_file(conn, feed, path, NIGHT)
    assert first.status == "loaded" and first.rows == tiny.rows[feed.id] and first.rows_quarantined == 0
    [(rows, first_row, last_row, files, batch, feeds, shas, dates, loaded)] = query(
        conn, f"select count(*), min(_row_number), max(_row_number), count(distinct _source_file), max(_batch_id), "
              f"min(_feed), count(distinct _file_sha256), min(_extract_date), count(_loaded_at) from {feed.raw_table}")
    assert (rows, first_row, last_row, files, batch, feeds, shas, dates, loaded) == (
        tiny.rows[feed.id], 1, tiny.rows[feed.id], 1, first.batch_id, feed.id, 1, NIGHT, tiny.rows[feed.id])
    # Row numbers point back at the file: row n is line n + 1.
    third = read_rows(path)[2]
    assert query(conn, f"select episode_id from {feed.raw_table} where _row_number = 3")[0][0] == third["episode_id"]
    # The batch has planner statistics when it is published: the night's dbt build reads it next,
    # before autovacuum would have analyzed it (extract/load.py, _analyze).
    batch_table = f"{feed.id}__batch_{first.batch_id}"
    [(columns,)] = query(conn, "select count(*) from information_schema.columns where table_schema = 'raw' "
                               "and table_name = %s", (batch_table,))
    [(columns_with_statistics,)] = query(conn, "select count(*) from pg_stats where schemaname = 'raw' "
                                               "and tablename = %s", (batch_table,))
    assert columns > 0 and columns_with_statistics == columns

    again = load_file(conn, feed, path, NIGHT)
    assert again.status == "duplicate" and again.batch_id == first.batch_id
    assert query(conn, f"select count(*) from {feed.raw_table}")[0][0] == tiny.rows[feed.id]
    statuses = query(conn, "select status, file_encoding from raw.load_manifest where feed = %s order by batch_id",
                     (feed.id,))
    assert statuses == [("loaded", "UTF8"), ("duplicate", None)]


def test_corrected_redelivery_replaces_the_nights_batch(conn, tiny, tmp_path):
    feed = CRS_MISSING_EPISODES
    _fresh_feed(conn, feed)
    first = load_file(conn, feed, tiny.files[feed.id], NIGHT)
    other_night = generate_night(tmp_path / "other", NIGHT - timedelta(days=1), scale="tiny", feeds=[feed])
    load_file(conn, feed, other_night.files[feed.id], NIGHT - timedelta(days=1))

    corrected = tmp_path / "corrected.csv"
    corrected.write_text("\n".join(tiny.files[feed.id].read_text().splitlines()[:-5]) + "\n")  # five rows withdrawn
    second = load_file(conn, feed, corrected, NIGHT)

    assert second.status == "loaded" and second.rows == tiny.rows[feed.id] - 5
    counts = dict(query(conn, f"select _extract_date, count(*) from {feed.raw_table} group by 1"))
    assert counts == {NIGHT: tiny.rows[feed.id] - 5, NIGHT - timedelta(days=1): other_night.rows[feed.id]}
    assert query(conn, "select status from raw.load_manifest where batch_id = %s", (first.batch_id,))[0][0] == "replaced"
    # Only the published batches' tables remain: nothing half-made.
    assert query(conn, "select count(*) from pg_tables where schemaname = 'raw' and tablename like %s",
                 (f"{feed.id}__batch_%",))[0][0] == 2


def test_encodings_councils_export_load_the_same(conn, tmp_path):
    """UTF-8 with a BOM, Windows-1252 (the pound sign) and CRLF line ends all load, and to the same values."""
    feed = HR_POSTS
    plain = generate_night(tmp_path / "plain", NIGHT, scale="tiny", feeds=[feed])
    variants = {
        "utf-8-sig": generate_night(tmp_path / "bom", NIGHT, scale="tiny", feeds=[feed], encoding="utf-8-sig"),
        "cp1252": generate_night(tmp_path / "cp1252", NIGHT, scale="tiny", feeds=[feed], encoding="cp1252",
                                 line_ending="\r\n"),
        "crlf": generate_night(tmp_path / "crlf", NIGHT, scale="tiny", feeds=[feed], line_ending="\r\n"),
    }
    assert variants["utf-8-sig"].files[feed.id].read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\xa3" in variants["cp1252"].files[feed.id].read_bytes()  # a pound sign in Windows-1252
    pounds = [r["role"] for r in read_rows(plain.files[feed.id]) if "£" in r["role"]]
    assert pounds
    for n, (name, night) in enumerate(variants.items()):
        _fresh_feed(conn, feed)
        day = NIGHT
        result = load_file(conn, feed, night.files[feed.id], day)
        assert result.rows == plain.rows[feed.id] and result.rows_quarantined == 0, name
        roles = [r for (r,) in query(conn, f"select role from {feed.raw_table} where role like '%%£%%' order by _row_number")]
        assert roles == pounds, name
        assert query(conn, f"select count(*) from {feed.raw_table} where role like '%%' || chr(13) or snapshot_date "
                           f"like chr(65279) || '%%'")[0][0] == 0
        expected = "WIN1252" if name == "cp1252" else "UTF8"
        assert query(conn, "select file_encoding from raw.load_manifest where batch_id = %s",
                     (result.batch_id,))[0][0] == expected


def test_columns_in_another_order_load_by_name(conn, tiny, tmp_path):
    feed = CRS_PEOPLE
    _fresh_feed(conn, feed)
    rows = read_rows(tiny.files[feed.id])
    reordered = tmp_path / "people.csv"
    with reordered.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(reversed(feed.column_names)))
        writer.writeheader()
        writer.writerows(rows)
    load_file(conn, feed, reordered, NIGHT)
    assert query(conn, f"select person_id, gender from {feed.raw_table} where _row_number = 1") == [
        (rows[0]["person_id"], rows[0]["gender"])]


def test_an_incremental_feed_may_deliver_no_changes_but_a_snapshot_may_not(conn, tmp_path):
    header_only = tmp_path / "contacts.csv"
    header_only.write_text(",".join(CRS_CONTACTS.column_names) + "\n")
    _fresh_feed(conn, CRS_CONTACTS)
    assert load_file(conn, CRS_CONTACTS, header_only, NIGHT).rows == 0
    people = tmp_path / "people.csv"
    people.write_text(",".join(CRS_PEOPLE.column_names) + "\n")
    with pytest.raises(RejectedFile, match=r"people.csv: line 2: the file has a header but no rows"):
        load_file(conn, CRS_PEOPLE, people, NIGHT)


def test_a_region_is_many_boroughs_streamed_into_one_file_per_feed(tmp_path, monkeypatch):
    """`region` is 33 boroughs: here 2 small ones, to check ids stay unique and every borough is written."""
    from synthetic import generate

    monkeypatch.setitem(generate.SCALES, "region", generate.Scale(boroughs=2, history_years=3, size=0.01, posts=12))
    night = generate_night(tmp_path, NIGHT, scale="region", feeds=[CRS_PEOPLE, HR_EMPLOYEES])
    people = [r["person_id"] for r in read_rows(night.files[CRS_PEOPLE.id])]
    assert len(people) == len(set(people)) and {p[:3] for p in people} == {"B01", "B02"}
    employees = {r["employee_id"][:3] for r in read_rows(night.files[HR_EMPLOYEES.id])}
    assert employees == {"B01", "B02"}


def test_boroughs_writes_the_first_n_boroughs_of_a_scale_row_for_row(tmp_path, monkeypatch):
    """`boroughs=N` (the region benchmark's 1, 3, 11 and 33): the first N boroughs of the scale, each
    from its own seed, so fewer boroughs are a subset of more, row for row."""
    from synthetic import generate

    monkeypatch.setitem(generate.SCALES, "region", generate.Scale(boroughs=3, history_years=2, size=0.01, posts=12))
    one = generate_night(tmp_path / "one", NIGHT, scale="region", boroughs=1, feeds=[CRS_PEOPLE, HR_EMPLOYEES])
    two = generate_night(tmp_path / "two", NIGHT, scale="region", boroughs=2, feeds=[CRS_PEOPLE, HR_EMPLOYEES])
    for feed in (CRS_PEOPLE, HR_EMPLOYEES):
        rows_one, rows_two = read_rows(one.files[feed.id]), read_rows(two.files[feed.id])
        assert rows_one and rows_two[:len(rows_one)] == rows_one and len(rows_two) > len(rows_one)
    assert {r["person_id"][:3] for r in read_rows(one.files[CRS_PEOPLE.id])} == {"B01"}
    assert {r["person_id"][:3] for r in read_rows(two.files[CRS_PEOPLE.id])} == {"B01", "B02"}
    with pytest.raises(ValueError, match="at least 1"):
        generate_night(tmp_path / "none", NIGHT, scale="region", boroughs=0, feeds=[CRS_PEOPLE])
