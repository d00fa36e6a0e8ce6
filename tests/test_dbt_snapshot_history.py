"""The snapshots' history is written night after night, in date order, and nothing rewrites it.

A snapshot (dbt_project/snapshots/snapshots.yml) keeps each version of a child's record and of
a looked-after episode from the night that first showed it, and closes a row on the night it
disappeared. Snapshotting an older night after a newer one would record the old values as
changes made after the newer night's; a snapshot over no rows would close every open row. So:

* the nightly build of a night older than the snapshots' history (a backfill, a statutory
  return's 31 March) leaves the snapshots out and builds the marts as usual
  (pipeline/nightly.py, snapshots_left_out); so does the snapshot step of the per-model mode;
* a snapshot run by hand for an older night, or over a model with no rows, refuses to run
  before it touches its table (macros/snapshots.sql, guard_snapshot_history).

The module loads two tiny nights into a database of its own and builds them in order with the
nightly step, then backfills the first night and tries the refused cases.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from warehouse import db

from helpers import change_row, dbt_results, drop_database, edit_csv, fresh_database, query

pytestmark = pytest.mark.slow

DATABASE = "test_snapshot_history"
NIGHT_1, NIGHT_2 = date(2026, 11, 21), date(2026, 11, 22)
SNAPSHOTS = ("snp_crs__people", "snp_crs__looked_after_episodes")
# The module's builds, night after night, are one run's: none is validated or published, and a
# build another run has claimed (and not ended) holds marts_build (publication/builds.py).
RUN = "test_snapshot_history"


@pytest.fixture(scope="module")
def warehouse(settings, tmp_path_factory):
    """Two tiny nights loaded and built in date order with the nightly step; yields (settings, conn)."""
    from synthetic.generate import generate_night
    from extract.load_night import load_night
    from pipeline.nightly import build_marts

    mine = fresh_database(settings, DATABASE, landing_dir=tmp_path_factory.mktemp("landing"))
    for night in (NIGHT_1, NIGHT_2):
        files = generate_night(mine.landing_dir, night, scale="tiny").files
        if night == NIGHT_2:  # a child moved: the second night is in the history as a change
            edit_csv(files["crs__people"], move_first_child)
        load_night(mine, night)
        build_marts(night, mine, run_id=RUN)
    conn = db.connect(mine)
    yield mine, conn
    conn.close()
    drop_database(settings, DATABASE)


def move_first_child(rows: list[dict]) -> list[dict]:
    first = rows[0]
    return change_row(rows, "person_id", first["person_id"],
                      postcode="CR0 1AA" if first["postcode"] != "CR0 1AA" else "CR0 1AB")


def history(conn) -> dict[str, list[tuple]]:
    """Every version of every snapshot, in a stable order."""
    return {s: query(conn, f"select * from snapshots.{s} order by dbt_scd_id") for s in SNAPSHOTS}


def dbt(settings, tmp: Path, night: date, *args: str) -> tuple[int, str]:
    """Run dbt for `night`; returns its exit code and the messages of the nodes that did not pass."""
    code, results = dbt_results(settings, tmp, night, *args)
    return code, "\n".join(r.get("message") or "" for r in results if r["status"] not in ("success", "pass"))


def test_the_nights_built_in_order_are_in_the_history(warehouse):
    from pipeline.nightly import latest_snapshot_night

    settings, conn = warehouse
    assert latest_snapshot_night(settings) == NIGHT_2
    for snapshot in SNAPSHOTS:
        (first_night, open_rows), = query(conn, f"select min(dbt_valid_from)::date, count(*) filter "
                                                f"(where dbt_valid_to is null) from snapshots.{snapshot}")
        assert first_night == NIGHT_1 and open_rows > 0, snapshot


def test_a_backfill_builds_the_marts_and_leaves_the_history_alone(warehouse):
    from pipeline.nightly import build_marts, snapshot_history, snapshots_left_out

    settings, conn = warehouse
    before = history(conn)
    assert snapshots_left_out(NIGHT_1, settings) == ["--exclude", "resource_type:snapshot"]
    assert snapshots_left_out(NIGHT_2, settings) == []  # re-running the latest night snapshots it

    build_marts(NIGHT_1, settings, run_id=RUN)  # raises if any node failed

    built_for = query(conn, "select distinct extract_date from staging.stg_crs__people")
    assert built_for == [(NIGHT_1,)], "the backfill should build from the first night's extract"
    assert history(conn) == before, "the backfill changed the snapshots' history"
    assert snapshot_history(NIGHT_1, settings) is False  # the per-model mode's step leaves it out too
    assert history(conn) == before


def test_a_snapshot_run_by_hand_for_an_older_night_refuses(warehouse, tmp_path):
    settings, conn = warehouse
    before = history(conn)

    code, messages = dbt(settings, tmp_path, NIGHT_1, "snapshot")

    # Only the people snapshot holds the second night (a child moved); the episodes' history ends
    # on the first night, which it may snapshot again without changing anything.
    assert code != 0
    assert f'snp_crs__people" refused to run for {NIGHT_1}: it already holds history up to {NIGHT_2}' in messages
    assert history(conn) == before


def test_a_snapshot_over_an_empty_model_refuses(warehouse, tmp_path):
    settings, conn = warehouse
    assert dbt(settings, tmp_path, NIGHT_2, "run", "--select", "stg_crs__people")[0] == 0
    before = history(conn)
    # A staging view left empty (as a dry run leaves it: `dbt run --empty`).
    assert dbt(settings, tmp_path, NIGHT_2, "run", "--empty", "--select", "stg_crs__people")[0] == 0
    try:
        code, messages = dbt(settings, tmp_path, NIGHT_2, "snapshot", "--select", "snp_crs__people")

        assert code != 0
        assert "refused to run over no rows: stg_crs__people is empty" in messages, messages
        assert history(conn) == before
    finally:
        assert dbt(settings, tmp_path, NIGHT_2, "run", "--select", "stg_crs__people")[0] == 0


def test_re_running_the_latest_night_changes_no_history(warehouse, tmp_path):
    from pipeline.nightly import snapshot_history

    settings, conn = warehouse
    # the backfill above left the first night's staging
    assert dbt(settings, tmp_path, NIGHT_2, "run", "--select", "+resource_type:snapshot")[0] == 0
    before = history(conn)

    assert snapshot_history(NIGHT_2, settings) is True

    assert history(conn) == before
