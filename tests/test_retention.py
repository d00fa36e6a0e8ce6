"""Retention (pipeline/retention.py): person-level data older than each dataset's setting
(warehouse/audiences.yml) is removed or degraded by the nightly step, counted in dq.

Runs the step as a DAG task does (pipeline.nightly.run_step, as the pipeline's roles) on the
shared published night (conftest.published_night), for a night six years later, so that the
oldest generated rows fall past the settings. Expected counts come from the delivered files.
"""

from __future__ import annotations

import csv
import os
from datetime import date, datetime

import pytest

from warehouse import audiences, db, roles
from pipeline import nightly, retention

from helpers import query

pytestmark = pytest.mark.slow

RULES = {r["table"]: r for r in audiences.declaration().retention["rows"]}


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


def run_step(night, step: str, day: date):
    saved = {k: os.environ.get(k) for k in night["environ"]}
    os.environ.update(night["environ"])
    try:
        return nightly.run_step(step, day.isoformat())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def delivered(night, feed: str) -> list[dict]:
    rows = []
    for generated in night["files"].values():
        with generated.files[feed].open(newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


@pytest.fixture(scope="module")
def six_years_on(published_night):
    night = published_night["night"]
    later = night.replace(year=night.year + 6)
    conn = db.connect(published_night["settings"])
    roles.apply_roles(conn, published_night["passwords"])  # passwords are server-wide: other modules set theirs
    before = {table: query(conn, f"select count(*) from {table}")[0][0] for table in RULES
              if query(conn, "select to_regclass(%s)", (table,))[0][0]}
    conn.close()
    applied = run_step(published_night, "apply_retention", later)
    return {"later": later, "before": before, "applied": applied}


def test_rows_older_than_the_setting_are_deleted_from_every_batch(published_night, six_years_on):
    """The generated history reaches back past both nights' cut-offs: the published night's own
    retention removed the oldest contacts, the night six years on the next slice, each counted."""
    night, later = published_night["night"], six_years_on["later"]
    keep = int(RULES["raw.crs__contacts"]["keep"].split()[0])
    first_cutoff, cutoff = years_before(night, keep), years_before(later, keep)
    # A contact that led to a referral stays while the referral does (kept_while in audiences.yml).
    referred = {r["contact_id"].strip() for r in delivered(published_night, "crs__referrals")}
    contact_days = [datetime.strptime(r["contact_at"], "%Y-%m-%d %H:%M").date()
                    for r in delivered(published_night, "crs__contacts") if r["contact_id"].strip() not in referred]
    assert len(referred) > 10
    already = sum(day < first_cutoff for day in contact_days)
    old = sum(first_cutoff <= day < cutoff for day in contact_days)
    assert already and old, "the generated contacts should reach back past both cut-offs"
    [contacts] = [a for a in six_years_on["applied"] if a["dataset"] == "raw.crs__contacts"]
    assert (contacts["action"], contacts["cutoff"], contacts["rows_affected"]) == ("deleted", cutoff.isoformat(), old)
    conn = db.connect(published_night["settings"])
    assert query(conn, "select count(*) from raw.crs__contacts c where contact_at < %s and not exists "
                       "(select 1 from raw.crs__referrals r where r.contact_id = c.contact_id)",
                 (cutoff.isoformat(),)) == [(0,)]
    # Every old contact left is one a referral refers to, so the referrals' link to their contact
    # still holds (dbt's relationships test warned on every healthy night when retention broke it).
    [(kept_old,)] = query(conn, "select count(*) from raw.crs__contacts where contact_at < %s", (cutoff.isoformat(),))
    assert kept_old > 0
    assert query(conn, "select count(*) from raw.crs__contacts")[0][0] == six_years_on["before"]["raw.crs__contacts"] - old
    # Every deleted row is counted against its batch, and in dq, night by night.
    [(expired,)] = query(conn, "select sum(rows_expired) from raw.load_manifest where feed = 'crs__contacts'")
    recorded = {day: dict(query(conn, "select dataset, rows_affected from dq.retention_runs where extract_date = %s "
                                      "and action = 'deleted'", (day,))) for day in (night, later)}
    conn.close()
    assert expired == already + old
    assert (recorded[night]["raw.crs__contacts"], recorded[later]["raw.crs__contacts"]) == (already, old)
    # Zero counts recorded too; an episode's return interview forms go with it (with_rows_of).
    assert set(recorded[later]) == {t for t in RULES if t in six_years_on["before"]} | {"raw.crs__return_home_interviews"}


def test_the_incremental_staging_table_loses_the_rows_raw_lost(published_night, six_years_on):
    """stg_crs__contacts is kept between nights and merges only new batches (docs/scale.md): a contact
    retention deleted from raw must go from it too, or the next night's marts would still count it."""
    cutoff = years_before(six_years_on["later"], int(RULES["staging.stg_crs__contacts"]["keep"].split()[0]))
    [staged] = [a for a in six_years_on["applied"] if a["dataset"] == "staging.stg_crs__contacts"]
    conn = db.connect(published_night["settings"])
    left = query(conn, "select count(*) from staging.stg_crs__contacts c where contact_at < %s and not exists "
                       "(select 1 from raw.crs__referrals r where r.contact_id = c.contact_id)", (cutoff.isoformat(),))
    conn.close()
    assert staged["rows_affected"] > 0 and left == [(0,)]


def test_the_published_night_still_passes_its_raw_gate(published_night, six_years_on):
    """The gate expects what the manifest recorded less what retention removed since."""
    outcomes = run_step(published_night, "validate_raw", published_night["night"])
    assert all(o["success"] for o in outcomes)
    counts = [o for o in outcomes if o["suite"] == "raw.crs__missing_episodes"]
    assert counts and not counts[0]["critical_failures"]
    # No return interview form is left referring to an episode retention removed (it warned on
    # every healthy night once the oldest episodes passed their 12 years).
    [forms] = [o for o in outcomes if o["suite"] == "raw.crs__return_home_interviews"]
    assert not forms["warnings"] and not forms["critical_failures"], forms


def test_old_nightly_batches_are_dropped_but_the_latest_and_incremental_ones_stay(published_night, six_years_on):
    first, night = published_night["first_night"], published_night["night"]
    conn = db.connect(published_night["settings"])
    batches = query(conn, "select feed, extract_date, expired_at is not null from raw.load_manifest "
                          "where status = 'loaded' order by 1, 2")
    people = query(conn, "select distinct _extract_date from raw.crs__people")
    contacts = query(conn, "select distinct _extract_date from raw.crs__contacts order by 1")
    [(dropped,)] = query(conn, "select count(*) from dq.retention_runs where extract_date = %s and action = 'dropped_batch' "
                               "and rows_affected > 0", (six_years_on["later"],))
    conn.close()
    assert people == [(night,)]  # the older night's full copy of the children's records is gone
    assert contacts == [(first,), (night,)]  # an incremental feed keeps every delta
    assert ("crs__people", first, True) in batches and ("crs__people", night, False) in batches
    assert ("crs__contacts", first, False) in batches
    assert dropped > 10


def test_quarantined_rows_as_delivered_are_degraded(published_night, six_years_on):
    conn = db.connect(published_night["settings"])
    lines = query(conn, "select original_line from raw.quarantine where extract_date = %s",
                  (published_night["first_night"],))
    conn.close()
    assert lines and {line for (line,) in lines} == {retention.QUARANTINE_MARKER}


def test_running_it_again_removes_nothing_more(published_night, six_years_on):
    again = run_step(published_night, "apply_retention", six_years_on["later"])
    assert again and all(a["rows_affected"] == 0 for a in again)
