"""The incremental nightly build gives exactly the marts a full refresh gives.

The memo models (macros/incremental_memo.sql; docs/marts.md, "Incremental build") keep the
expensive working-day rules between nights and compute them only for new or changed inputs.
This module loads two tiny generated nights with the real loader into a database of its own,
with rows changed, added and deleted between them, then a corrected re-delivery of the second
night, and backfills the first night on top of the second night's memos. After each
incremental build it keeps a copy of the result, rebuilds the same night with `--full-refresh`,
and requires every table of `marts_build` (and the memos) to be identical, pseudonymous keys
included (`except all`, both ways). It then checks that the comparison would catch a stale
result: a memo entry that answers a changed row's new inputs with its old result.

It also runs every dbt unit test, which the nightly build leaves out (pipeline/nightly.py).
About 3 minutes on two cores (177 s on 23 November): `dbt seed`, four `dbt run`s of every model, three of the
memos and marts with --full-refresh, one `dbt test` of the unit tests, and the stale-result check.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from warehouse import db
from warehouse.dbt import run_dbt

from helpers import change_row, drop_database, edit_csv, fresh_database, query

pytestmark = pytest.mark.slow

DATABASE = "test_incremental"
NIGHT_1, NIGHT_2 = date(2026, 11, 21), date(2026, 11, 22)
MEMOS = ("int_front_door__assessment_timeliness", "int_child_protection__icpc_timeliness")
# The incremental feeds' staging tables, kept between nights: a night merges the batches
# delivered since, or rebuilds when a merge would not be exact (macros/incremental_feeds.sql).
KEPT_STAGING = ("stg_crs__contacts", "stg_crs__visits")
KEPT = "kept_incremental"  # where a build's incremental result is kept for the comparison


@dataclasses.dataclass
class Warehouse:
    settings: object
    conn: object
    target: Path
    logs: Path

    def build(self, night: date, *, full_refresh: bool = False, select: tuple[str, ...] = ()) -> str:
        """`dbt run` for the night (the nightly build without its tests); returns dbt's invocation id.

        Incremental: every model (or `select`), as the nightly build. Full refresh: the memos, the
        kept staging tables and every mart (or `select`), on the other staging and intermediate
        models the incremental run just built for the same night (views and tables that keep no
        state between nights: a full refresh builds them the same way)."""
        args = ["run", "--target-path", str(self.target), "--log-path", str(self.logs)]
        if full_refresh:
            args += ["--full-refresh", "--select", *(select or ("path:models/marts", *MEMOS, *KEPT_STAGING))]
        elif select:
            args += ["--select", *select]
        assert run_dbt(self.settings, args, extract_date=night.isoformat(), check=False) == 0, \
            f"dbt run for {night} failed (full_refresh={full_refresh}); see the dbt output above"
        return json.loads((self.target / "run_results.json").read_text())["metadata"]["invocation_id"]

    def keep_result(self) -> list[str]:
        """Copy the marts and the memos as built into schema KEPT; returns the marts copied."""
        marts = [t for (t,) in query(self.conn, "select table_name from information_schema.tables "
                                                "where table_schema = 'marts_build' order by 1")]
        with self.conn.cursor() as cur:
            cur.execute(f"drop schema if exists {KEPT} cascade; create schema {KEPT}")
            for table in marts:
                cur.execute(f"create table {KEPT}.{table} as table marts_build.{table}")
            for memo in MEMOS:
                cur.execute(f"create table {KEPT}.{memo} as table intermediate.{memo}")
            for table in KEPT_STAGING:
                cur.execute(f"create table {KEPT}.{table} as table staging.{table}")
        self.conn.commit()
        return marts

    def restore_incremental_memos(self) -> None:
        """Put the incremental memos and kept staging tables back after a full refresh, so the next
        night builds on them (the staging tables' rows only: their unique index stays)."""
        with self.conn.cursor() as cur:
            for memo in MEMOS:
                cur.execute(f"drop table intermediate.{memo}; create table intermediate.{memo} as table {KEPT}.{memo}")
            for table in KEPT_STAGING:
                cur.execute(f"truncate staging.{table}; insert into staging.{table} select * from {KEPT}.{table}")
        self.conn.commit()

    def written(self) -> dict[str, tuple[int, int]]:
        """Per kept staging table, after a build: (rows the build inserted, rows in the table). All
        of them when the build rebuilt (or created) it; the new versions only when it merged."""
        results = json.loads((self.target / "run_results.json").read_text())["results"]
        inserted = {r["unique_id"].split(".")[-1]: r["adapter_response"].get("rows_affected") for r in results}
        return {table: (inserted[table], query(self.conn, f"select count(*) from staging.{table}")[0][0])
                for table in KEPT_STAGING}

    def differences(self, table: str, schema: str, columns: str = "*") -> int:
        """Rows of schema.table not in the kept copy, plus rows of the copy not in it (multisets)."""
        [(count,)] = query(self.conn, f"""
            select count(*) from (
                (select {columns} from {schema}.{table} except all select {columns} from {KEPT}.{table})
                union all
                (select {columns} from {KEPT}.{table} except all select {columns} from {schema}.{table})
            ) as differing""")
        return count

    def memo_columns(self, memo: str) -> str:
        """Every column but computed_by_invocation_id, which differs between the two builds by design."""
        return ", ".join(c for (c,) in query(
            self.conn, "select column_name from information_schema.columns where table_schema = 'intermediate' "
                       "and table_name = %s and column_name <> 'computed_by_invocation_id' order by ordinal_position",
            (memo,)))

    def computed_rows(self, invocation: str) -> dict[str, tuple[int, int]]:
        """Per memo in the kept copy: (rows the given dbt run computed, all rows); the rest were reused."""
        return {memo: query(self.conn, f"select count(*) filter (where computed_by_invocation_id = %s), count(*) "
                                       f"from {KEPT}.{memo}", (invocation,))[0] for memo in MEMOS}

    def build_both_ways(self, night: date, select: tuple[str, ...] = ()) -> dict:
        """Build the night incrementally, keep the result, then build it with --full-refresh.

        Returns the rows differing per table (all 0 when the incremental build is right) and,
        per memo, how many of its rows the incremental build computed (the rest were reused)."""
        invocation = self.build(night, select=select)
        written = self.written() if not select else {}
        marts = self.keep_result()
        computed = self.computed_rows(invocation)
        self.build(night, full_refresh=True, select=select)
        differing = {table: self.differences(table, "marts_build") for table in marts}
        differing |= {memo: self.differences(memo, "intermediate", self.memo_columns(memo)) for memo in MEMOS}
        if not select:
            differing |= {table: self.differences(table, "staging") for table in KEPT_STAGING}
        self.restore_incremental_memos()
        return {"differing": differing, "computed": computed, "written": written}


@pytest.fixture(scope="module")
def warehouse(settings, tmp_path_factory):
    from warehouse.pseudonymisation import install_key

    mine = fresh_database(settings, DATABASE, landing_dir=tmp_path_factory.mktemp("landing"))
    conn = db.connect(mine)
    install_key(conn, mine)
    wh = Warehouse(mine, conn, tmp_path_factory.mktemp("dbt-target"), tmp_path_factory.mktemp("dbt-logs"))
    assert run_dbt(mine, ["seed", "--target-path", str(wh.target), "--log-path", str(wh.logs)], check=False) == 0
    yield wh
    conn.close()
    drop_database(settings, DATABASE)


def deliver(wh: Warehouse, night: date, edits=None) -> dict[str, Path]:
    """Generate the night's tiny extract, apply `edits` (feed id -> edit(rows)) and load it with the real loader."""
    from synthetic.generate import generate_night
    from extract.load_night import load_night

    files = generate_night(wh.settings.landing_dir, night, scale="tiny").files
    for feed, edit in (edits or {}).items():
        edit_csv(files[feed], edit)
    load_night(wh.settings, night)
    return files


def redeliver(wh: Warehouse, feed_id: str, path: Path, night: date) -> str:
    """A corrected file for a night already loaded: the loader replaces that night's batch."""
    from extract.feeds import FEEDS_BY_ID
    from extract.load import load_file

    conn = db.connect(wh.settings)
    try:
        return load_file(conn, FEEDS_BY_ID[feed_id], path, night).status
    finally:
        conn.close()


def working_days_to_authorisation(wh: Warehouse, assessment_id: str) -> int | None:
    """The kept incremental build's working days for one assessment (looked up by its pseudonymous key)."""
    [(days,)] = query(wh.conn, f"""
        select working_days_to_authorisation from {KEPT}.mart_front_door_assessments
        where assessment_key = encode(sha256((select outer_pad from private.pseudonymisation_key)
              || sha256((select inner_pad from private.pseudonymisation_key)
                        || convert_to('assessment:' || %s, 'UTF8'))), 'hex')""", (assessment_id,))
    return days


def days_later(iso_date: str, days: int) -> str:
    return date.fromordinal(date.fromisoformat(iso_date).toordinal() + days).isoformat()


@pytest.fixture(scope="module")
def history(warehouse):
    """Two nights, a corrected re-delivery and a backfill, each built both ways."""
    wh = warehouse
    steps = {}

    # Night 1: the first build has no memo yet and computes every row (as a full refresh does).
    files = night_1_files = deliver(wh, NIGHT_1)
    invocation = wh.build(NIGHT_1)
    wh.keep_result()
    steps["night 1"] = {"computed": wh.computed_rows(invocation)}
    with files["crs__assessments"].open(encoding="utf-8") as fh:
        authorised = [r for r in csv.DictReader(fh) if r["authorised_date"]]
    changed, deleted = authorised[0], authorised[1]["assessment_id"]
    first_days = working_days_to_authorisation(wh, changed["assessment_id"])
    with files["crs__icpcs"].open(encoding="utf-8") as fh:
        moved_icpc = next(r for r in csv.DictReader(fh) if r["s47_id"] and r["icpc_date"])

    # Night 2: the generator's own changes (new contacts, referrals and assessments, open items
    # closing), plus an authorised date 10 days later, an assessment deleted, an ICPC a day later
    # and a contact decided again.
    def night_2_assessments(rows):
        rows = change_row(rows, "assessment_id", changed["assessment_id"],
                          authorised_date=days_later(changed["authorised_date"], 10))
        return [r for r in rows if r["assessment_id"] != deleted]

    with files["crs__contacts"].open(encoding="utf-8") as fh:
        reopened = next(r for r in csv.DictReader(fh) if r["decision"] == "NFA")

    def night_2_contacts(rows):  # a night 1 contact decided again on night 2 (a new version)
        return rows + [{**reopened, "decision": "EARLY_HELP", "updated_at": f"{NIGHT_2.isoformat()} 10:00"}]

    files = deliver(wh, NIGHT_2, {
        "crs__contacts": night_2_contacts,
        "crs__assessments": night_2_assessments,
        "crs__icpcs": lambda rows: change_row(rows, "icpc_id", moved_icpc["icpc_id"],
                                              icpc_date=days_later(moved_icpc["icpc_date"], 1)),
    })
    steps["night 2"] = wh.build_both_ways(NIGHT_2)
    night_2_days = working_days_to_authorisation(wh, changed["assessment_id"])
    deleted_rows = query(wh.conn, "select count(*) from staging.stg_crs__assessments where assessment_id = %s",
                         (deleted,))[0][0]

    # A corrected re-delivery of night 2's assessments (the authorised date back as it was),
    # and night 2 built again.
    edit_csv(files["crs__assessments"], lambda rows: change_row(
        rows, "assessment_id", changed["assessment_id"], authorised_date=changed["authorised_date"]))
    status = redeliver(wh, "crs__assessments", files["crs__assessments"], NIGHT_2)
    # ... and of night 1's contacts (one decision corrected), which the contacts' staging table
    # merged before night 2: it must rebuild. (Night 2's tiny contacts delta may be empty.)
    night_1_contacts = night_1_files["crs__contacts"]
    with night_1_contacts.open(encoding="utf-8") as fh:
        decided = next(r for r in csv.DictReader(fh) if r["decision"] and r["contact_id"] != reopened["contact_id"])
    edit_csv(night_1_contacts, lambda rows: change_row(
        rows, "contact_id", decided["contact_id"], decision="NFA" if decided["decision"] != "NFA" else "EARLY_HELP"))
    assert redeliver(wh, "crs__contacts", night_1_contacts, NIGHT_1) == "loaded"
    replaced = query(wh.conn, "select count(*) from raw.load_manifest where feed = 'crs__assessments' "
                              "and extract_date = %s and status = 'replaced'", (NIGHT_2,))[0][0]
    steps["night 2 corrected"] = wh.build_both_ways(NIGHT_2)
    corrected_days = working_days_to_authorisation(wh, changed["assessment_id"])

    # A backfill: night 1 again, on top of night 2's memos.
    steps["backfill of night 1"] = wh.build_both_ways(NIGHT_1)
    backfill_reads = query(wh.conn, "select distinct extract_date from staging.stg_crs__assessments")
    return {"steps": steps, "first_days": first_days, "night_2_days": night_2_days,
            "corrected_days": corrected_days, "deleted_rows": deleted_rows,
            "redelivery_status": status, "replaced_batches": replaced, "backfill_reads": backfill_reads}


@pytest.mark.parametrize("step", ["night 2", "night 2 corrected", "backfill of night 1"])
def test_incremental_build_equals_full_refresh(history, step):
    differing = history["steps"][step]["differing"]
    assert {"mart_front_door_assessments", "mart_child_protection_s47_enquiries", "mart_partnership_scorecard",
            *MEMOS} <= set(differing)
    assert {table: n for table, n in differing.items() if n} == {}
    assert set(KEPT_STAGING) <= set(differing)


def test_the_kept_staging_tables_merge_a_new_night_and_rebuild_otherwise(history):
    """Night 2 merges its deltas into night 1's rows; a re-delivered night already merged, and a
    backfill, rebuild. (Their results equal a full refresh's: test_incremental_build_equals_full_refresh.)"""
    steps = history["steps"]
    for table, (inserted, rows) in steps["night 2"]["written"].items():
        assert 0 < inserted < rows / 2, (table, inserted, rows)
    contacts, visits = (steps["night 2 corrected"]["written"][t] for t in KEPT_STAGING)
    assert contacts[0] == contacts[1] > 0  # night 1's contacts re-delivered: rebuilt
    assert visits[0] == 0 < visits[1]  # nothing new for visits: merged, nothing inserted
    for table, (inserted, rows) in steps["backfill of night 1"]["written"].items():
        assert inserted == rows > 0, table


def test_first_night_computes_every_row(history):
    for memo, (computed, total) in history["steps"]["night 1"]["computed"].items():
        assert computed == total > 0, memo


def test_later_nights_compute_only_new_or_changed_inputs(history):
    for step in ("night 2", "night 2 corrected", "backfill of night 1"):
        for memo, (computed, total) in history["steps"][step]["computed"].items():
            assert computed < total / 2, (step, memo, computed, total)
    # the edited rows themselves were recomputed
    assert history["steps"]["night 2"]["computed"]["int_front_door__assessment_timeliness"][0] > 0
    assert history["steps"]["night 2"]["computed"]["int_child_protection__icpc_timeliness"][0] > 0


def test_changed_deleted_and_corrected_rows(history):
    assert history["night_2_days"] > history["first_days"]  # authorised 10 days later: recomputed
    assert history["deleted_rows"] == 0
    assert history["redelivery_status"] == "loaded" and history["replaced_batches"] == 1
    assert history["corrected_days"] == history["first_days"]  # the correction: back to the old result


def test_the_backfill_reads_the_earlier_night(history):
    assert history["backfill_reads"] == [(NIGHT_1,)]


def test_a_stale_result_is_caught(history, warehouse):
    """If a changed row were answered from the memo with its old result, the comparison must see it.

    The memo entry of an authorised assessment is re-keyed to the inputs the assessment is
    about to have (its authorised date 20 days later), as a memo whose key left out the
    authorised date would be: the incremental build then reuses the old result for the
    changed row, and must differ from the full refresh."""
    night = NIGHT_1  # the memos hold the backfilled night 1
    memo = "intermediate.int_front_door__assessment_timeliness"
    [(assessment_id, start, authorised)] = query(warehouse.conn, """
        select trim(assessment_id), trim(start_date)::date, trim(authorised_date)::date from raw.crs__assessments
        where _extract_date = %s and trim(authorised_date) <> '' order by assessment_id limit 1""", (night,))
    moved = date.fromordinal(authorised.toordinal() + 20)
    with warehouse.conn.cursor() as cur:
        cur.execute(f"select count(*) from {memo} where start_date = %s and authorised_date = %s", (start, moved))
        assert cur.fetchone()[0] == 0, "pick another assessment: its new inputs are already in the memo"
        cur.execute(f"""update {memo} set input_key = md5(row(start_date, %s::date)::text)
                        where start_date = %s and authorised_date = %s""",
                    (moved, start, authorised))
        assert cur.rowcount == 1
        cur.execute("update raw.crs__assessments set authorised_date = %s "
                    "where trim(assessment_id) = %s and _extract_date = %s", (moved.isoformat(), assessment_id, night))
        assert cur.rowcount == 1
    warehouse.conn.commit()
    differing = warehouse.build_both_ways(night, select=("int_front_door__assessment_timeliness+",))["differing"]
    assert differing["mart_front_door_assessments"] == 2  # the row as built, and the row as it should be
    assert differing["int_front_door__assessment_timeliness"] == 2


def test_every_dbt_unit_test_passes(history, warehouse):
    """The nightly build leaves the unit tests out (they pin the rules on hand-made rows, not the
    night's data): here they all run, on the models the history built."""
    args = ["test", "--select", "test_type:unit", "--target-path", str(warehouse.target), "--log-path",
            str(warehouse.logs)]
    returncode = run_dbt(warehouse.settings, args, check=False)
    results = json.loads((warehouse.target / "run_results.json").read_text())["results"]
    manifest = json.loads((warehouse.target / "manifest.json").read_text())
    assert returncode == 0, [r["unique_id"] for r in results if r["status"] != "pass"]
    assert len(results) == len(manifest["unit_tests"]) > 30
    assert all(r["status"] == "pass" for r in results)
