"""Each audience reads what its data-sharing agreement allows, enforced by PostgreSQL (issue 17).

One tiny night is run by the nightly steps as the pipeline's own roles and published with every
audience's views (conftest.published_night). Each test connects as an audience's role, with its
password, and asserts what it can and cannot read: which relations, which columns, which rows.
What the partnership reads is attacked as a reader would: no count of 1 to 5 visible, and no
suppressed cell recoverable by subtracting the visible cells from a total.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import psycopg2
import psycopg2.errors
import pytest

from warehouse import audiences, db

from helpers import dbt_var, query

pytestmark = pytest.mark.slow

DECLARATION = audiences.declaration()
THRESHOLD = dbt_var("suppression_threshold")
PIPELINE_SCHEMAS = ("raw", "staging", "intermediate", "snapshots", "private", "marts_build", "analytics")
# Columns that make a row person-level: pseudonymous keys, the instants of one child's events, months of birth.
PERSON_LEVEL = re.compile(r"(_key|_at|birth_month)$")


def connect(night, role: str):
    c = night["settings"].connection
    conn = psycopg2.connect(host=c.host, port=c.port, dbname=c.dbname, user=role,
                            password=night["passwords"][_setting(role)])
    conn.autocommit = True
    return conn


def _setting(role: str) -> str:
    return next(r.password_setting for r in DECLARATION.roles if r.name == role)


def rows_as(night, role: str, sql: str, params=None) -> list[tuple]:
    conn = connect(night, role)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def readable(night, role: str) -> dict[str, list[str]]:
    """Every relation the role can `select *` from, with its columns, found by trying each one."""
    admin = db.connect(night["settings"])
    relations = query(admin, """select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                where c.relkind in ('r', 'p', 'v', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
                                  and n.nspname not like 'pg_toast%%' order by 1""")
    admin.close()
    found = {}
    conn = connect(night, role)
    try:
        with conn.cursor() as cur:
            for (relation,) in relations:
                schema, name = relation.split(".")
                try:
                    cur.execute(f'select * from "{schema}"."{name}" limit 0')
                except psycopg2.errors.InsufficientPrivilege:
                    continue
                found[relation] = [d[0] for d in cur.description]
    finally:
        conn.close()
    return found


def declared_views(key: str) -> set[str]:
    audience = DECLARATION.audience(key)
    return {f"{audience.schema}.{v.name}" for v in audience.views if isinstance(v, audiences.View)}


# --- the pipeline ran as its own roles ---------------------------------------------------------------

def test_the_night_was_loaded_built_and_published_by_the_pipeline_roles(published_night):
    """The steps were given a warehouse owner that cannot log in: everything they made is owned by
    the loader (raw), the transformer (the builds, the marts, the audiences' views) or the dq group."""
    admin = db.connect(published_night["settings"])
    owners = dict(query(admin, """select n.nspname, string_agg(distinct pg_get_userbyid(c.relowner), ',')
                                  from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                  where c.relkind in ('r', 'p', 'v', 'm')
                                    and n.nspname in ('raw', 'staging', 'intermediate', 'marts', 'dq', 'council', 'partnership')
                                  group by 1"""))
    published = query(admin, "select extract_date, status from marts.publication")
    admin.close()
    assert owners == {"raw": "safeguarding_loader", "staging": "safeguarding_transformer",
                      "intermediate": "safeguarding_transformer", "marts": "safeguarding_transformer",
                      "dq": "safeguarding_dq_writer", "council": "safeguarding_transformer",
                      "partnership": "safeguarding_transformer"}
    assert published[0][0] == published_night["night"] and published[0][1].startswith("published")


# --- what each audience reads ------------------------------------------------------------------------

def test_each_audience_reads_its_own_schema_of_views_and_nothing_else(published_night):
    for key, audience in DECLARATION.audiences.items():
        found = readable(published_night, audience.name)
        schemas = {r.split(".")[0] for r in found}
        allowed = {audience.schema, *audience.reads_schemas} | {t.split(".")[0] for t in audience.reads_tables}
        assert schemas <= allowed, (key, schemas - allowed)
        assert not schemas & {"marts", audiences.PREVIOUS_SCHEMA, *PIPELINE_SCHEMAS} - allowed, key
        mine = {r for r in found if r.startswith(audience.schema + ".")}
        if key != "council_analysts":  # its views follow a pattern over tonight's marts
            assert mine == declared_views(key), (key, mine ^ declared_views(key))
        for relation in mine:  # and every view has rows tonight (the regional pool was released)
            assert rows_as(published_night, audience.name, f"select count(*) from {relation}")[0][0] > 0, relation


def test_the_council_reads_person_level_marts_and_workforce_totals_apart(published_night):
    role = DECLARATION.audience("council_analysts").name
    found = readable(published_night, role)
    assert "person_key" in found["council.mart_return_home_interviews"]
    assert "council.mart_regional_pool_children" not in found  # the pool's extract is the pool's
    # A drag-and-drop sum over the workforce view is right: totals are in their own view.
    [(detail_totals, total_rows)] = rows_as(published_night, role, """
        select (select count(*) from council.mart_workforce where is_total_row),
               (select count(*) from council.mart_workforce_totals where not is_total_row)""")
    assert (detail_totals, total_rows) == (0, 0)
    [(summed, grand)] = rows_as(published_night, role, """
        select (select sum(budgeted_fte) from council.mart_workforce where workforce_month = m.month),
               (select budgeted_fte from council.mart_workforce_totals where workforce_month = m.month
                and row_level = 'GRAND_TOTAL')
        from (select max(workforce_month) as month from council.mart_workforce) m""")
    assert summed == grand and summed > 0


def test_the_partnership_reads_aggregates_only(published_night):
    found = readable(published_night, DECLARATION.audience("partnership").name)
    for relation, columns in found.items():
        if relation.endswith((".calendar", ".publication")):
            continue
        person_level = [c for c in columns if PERSON_LEVEL.search(c)]
        assert not person_level, (relation, person_level)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        rows_as(published_night, DECLARATION.audience("partnership").name,
                "select count(*) from marts.mart_return_home_interviews")


@pytest.mark.parametrize("key, agency, view", [("police", "POLICE", "missing_notifications"),
                                               ("return_interview_provider", "RHI_PROVIDER", "referrals")])
def test_an_agency_reads_its_own_rows_and_columns_enforced_by_row_level_security(published_night, key, agency, view):
    audience = DECLARATION.audience(key)
    [declared] = [v for v in audience.views if isinstance(v, audiences.View) and v.name == view]
    admin = db.connect(published_night["settings"])
    [(own, others)] = query(admin, "select count(*) filter (where agency = %s), count(*) filter (where agency <> %s) "
                                   "from marts.mart_partner_missing_episodes", (agency, agency))
    admin.close()
    assert own > 0 and others > 0
    # Through its view: exactly its rows, exactly the declared columns.
    found = readable(published_night, audience.name)
    assert found[f"{audience.schema}.{view}"] == list(declared.columns)
    assert rows_as(published_night, audience.name, f"select count(*) from {audience.schema}.{view}") == [(own,)]
    # On the mart itself, the database keeps the other agency's rows and the other columns from it.
    columns = ", ".join(declared.columns)
    assert rows_as(published_night, audience.name,
                   f"select count(*) from (select {columns} from marts.mart_partner_missing_episodes) t") == [(own,)]
    for forbidden in ("person_key", "agency", "*"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            rows_as(published_night, audience.name, f"select {forbidden} from marts.mart_partner_missing_episodes")
    assert "person_key" not in declared.columns


def test_the_police_rows_are_its_notifications(published_night):
    """One row per police notification delivered (the files are the independent count)."""
    night = published_night["night"]
    with published_night["files"][night].files["police__missing_notifications"].open() as fh:
        notifications = {r["notification_id"] for r in csv.DictReader(fh)}
    rows = rows_as(published_night, "safeguarding_police",
                   "select agency_record_id, recorded_by_council, rhi_outcome from police.missing_notifications")
    assert {r[0] for r in rows} == notifications and len(rows) == len(notifications)
    assert {r[1] for r in rows} == {True, False}  # council-recorded or not
    assert any(r[2] for r in rows)  # with the return interview's outcome


def test_the_regional_pool_reads_a_degraded_extract(published_night):
    role = DECLARATION.audience("regional_pool").name
    children = rows_as(published_night, role, "select pool_child_key, birth_month, postcode_sector from regional_pool.children")
    with published_night["files"][published_night["night"]].files["crs__people"].open() as fh:
        people = list(csv.DictReader(fh))
    assert len(children) == len(people)
    assert all(re.fullmatch(r"[0-9a-f]{64}", k) for k, _, _ in children)
    assert all(m is None or m.day == 1 for _, m, _ in children)
    assert all(s is None or re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]", s) for _, _, s in children)
    postcodes = {p["postcode"].upper() for p in people if p["postcode"]}
    assert not postcodes & {s for _, _, s in children}
    # Salted per pool: its keys are not the marts' pseudonymous keys.
    admin = db.connect(published_night["settings"])
    [(shared,)] = query(admin, "select count(*) from marts.mart_looked_after_children where person_key in "
                               "(select pool_child_key from marts.mart_regional_pool_children)")
    admin.close()
    assert shared == 0
    episodes = readable(published_night, role)["regional_pool.missing_episodes"]
    assert "team" not in episodes and not any(c.endswith("_id") for c in episodes)


def test_auditors_read_quality_evidence_and_no_person_level_rows(published_night):
    role = DECLARATION.audience("auditors").name
    found = readable(published_night, role)
    assert {"dq.nightly_runs", "dq.validation_results", "dq.retention_runs", "dq.audience_releases",
            "raw.load_manifest", "audit.publication"} <= set(found)
    assert {r.split(".")[0] for r in found} == {"dq", "raw", "audit"}
    assert [r for r in found if r.startswith("raw.")] == ["raw.load_manifest"]
    assert rows_as(published_night, role, "select count(*) from raw.load_manifest")[0][0] > 0
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        rows_as(published_night, role, "select count(*) from raw.quarantine")  # rows as delivered


# --- suppression, as a reader would attack it -------------------------------------------------------

# The partnership's views with a total row per group: (cells view, totals view, group columns).
GROUPED = [("return_home_interviews_monthly", "return_home_interviews_monthly_totals", ("report_month",)),
           ("pathway_plans_monthly", "pathway_plans_monthly_totals", ("statutory_due_month",)),
           ("workforce_by_service_area", "workforce_totals", ("workforce_month",))]


def partnership_rows(night, view: str) -> list[dict]:
    conn = connect(night, DECLARATION.audience("partnership").name)
    try:
        with conn.cursor() as cur:
            cur.execute(f"select * from partnership.{view}")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        conn.close()


def suppressed_counts(row: dict) -> dict[str, str]:
    """{count column: its flag} for the counts the row's table suppresses."""
    flags = {}
    for column in row:
        if column.startswith("is_") and column.endswith("_suppressed") and column != "is_suppressed":
            count = column[len("is_"):-len("_suppressed")]
            count = {"leaver_count": "leaver_12m_count", "asye_over_cap": "asye_over_cap_count"}.get(count, count)
            flags[count] = column
    return flags


def test_no_count_of_1_to_5_is_visible_to_the_partnership(published_night):
    seen_suppressed = 0
    for view in [v.name for v in DECLARATION.audience("partnership").views if isinstance(v, audiences.View)]:
        for row in partnership_rows(published_night, view):
            for count, flag in suppressed_counts(row).items():
                value = row[count]
                assert value is None or not 1 <= value <= THRESHOLD, (view, count, row)
                if row[flag]:
                    assert value is None, (view, count)
                    seen_suppressed += 1
                if value == 0:
                    assert not row[flag]  # 0 is a true zero, shown
            if "is_suppressed" in row and row["is_suppressed"]:  # the scorecard
                assert row["numerator"] is None and row["denominator"] is None and row["value"] is None
    assert seen_suppressed > 100  # a tiny borough has many small cells: the check is not vacuous


def test_a_suppressed_cell_cannot_be_recovered_from_its_total(published_night):
    """Subtract the visible cells from the visible total: never exactly one hidden cell, nor hidden
    cells that must all be 1. And the check bites: some cells were hidden only for this reason."""
    secondary = 0
    for cells_view, totals_view, group in GROUPED:
        totals = {tuple(r[c] for c in group): r for r in partnership_rows(published_night, totals_view)}
        groups = defaultdict(list)
        for row in partnership_rows(published_night, cells_view):
            groups[tuple(row[c] for c in group)].append(row)
        for key, cells in groups.items():
            total = totals[key]
            for count, flag in suppressed_counts(total).items():
                if total[count] is None:
                    continue  # the total is hidden too: nothing to subtract from
                hidden = [c for c in cells if c[flag]]
                gap = total[count] - sum(c[count] for c in cells if not c[flag])
                assert len(hidden) != 1, (cells_view, key, count)
                assert not hidden or gap > len(hidden), (cells_view, key, count, gap)
                assert not hidden or gap > THRESHOLD, (cells_view, key, count, gap)
                secondary += len(hidden) >= 2
    assert secondary > 0


def test_the_scorecard_agrees_with_the_totals_it_summarises(published_night):
    scorecard = {(r["measure_id"], r["measure_month"]): r for r in partnership_rows(published_night, "scorecard")}
    checked = 0
    for view, month, measure, numerator, denominator in (
            ("return_home_interviews_monthly_totals", "report_month", "RHI01", "offered_within_72h_count",
             "offer_measured_count"),
            ("pathway_plans_monthly_totals", "statutory_due_month", "PP01", "statutory_on_time_count",
             "statutory_measured_count")):
        for total in partnership_rows(published_night, view):
            card = scorecard.get((measure, total[month]))
            if card is None or card["is_suppressed"] or total[numerator] is None or total[denominator] is None:
                continue
            assert (card["numerator"], card["denominator"]) == (total[numerator], total[denominator])
            checked += 1
    assert checked > 0


def test_the_scorecard_says_its_values_are_proportions(published_night):
    units = {(r["unit"], r["numerator_unit"]) for r in partnership_rows(published_night, "scorecard")}
    assert units == {("proportion", "count"), ("proportion", "fte")}


def test_the_partnership_workforce_flags_only_its_total_rows(published_night):
    rows = partnership_rows(published_night, "workforce_by_service_area")
    totals = partnership_rows(published_night, "workforce_totals")
    assert rows and totals
    assert {r["service_area"] for r in totals} == {"ALL"} and all(r["is_total_row"] for r in totals)
    assert "ALL" not in {r["service_area"] for r in rows} and not any(r["is_total_row"] for r in rows)


# --- the regional pool's extract is withheld when a degrade step fails -------------------------------

def as_role(night, role: str):
    import dataclasses

    return dataclasses.replace(night["settings"], connection=dataclasses.replace(
        night["settings"].connection, user=role, password=night["passwords"][_setting(role)]))


def test_the_regional_pool_is_withheld_when_a_degrade_step_fails(published_night, tmp_path):
    """A postcode the degrade step cannot turn into a sector arrives: the publication gives the pool
    nothing that night (and says why in dq), while every other audience gets its views."""
    from warehouse.dbt import run_dbt

    night = published_night["night"]
    transformer = as_role(published_night, DECLARATION.transformer.name)
    admin = db.connect(published_night["settings"])
    [(person, postcode)] = query(admin, "select person_id, postcode from raw.crs__people where _extract_date = %s "
                                        "and postcode <> '' order by person_id limit 1", (night,))
    sector = re.sub(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$", r"\1 \2", postcode.replace(" ", "").upper())
    query(admin, "update raw.crs__people set postcode = 'NOT A POSTCODE' where _extract_date = %s and person_id = %s "
                 "returning 1", (night, person))
    try:
        # The real degrade step, rebuilt by dbt over the spoiled row.
        run_dbt(transformer, ["run", "--select", "int_regional_pool__children", "--target-path",
                              str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")], extract_date=night.isoformat())
        conn = db.connect(transformer)
        try:
            with conn.cursor() as cur:  # what the publish step does, in a transaction left unmade
                exposed = audiences.release(cur, run_id="withheld_test", extract_date=night)
                cur.execute("select table_schema, count(*) from information_schema.views "
                            "where table_schema in ('regional_pool', 'partnership') group by 1")
                views = dict(cur.fetchall())
                cur.execute("select status, reason from dq.audience_releases where run_id = 'withheld_test' "
                            "and audience = 'regional_pool'")
                [(status, reason)] = cur.fetchall()
        finally:
            conn.rollback()
            conn.close()
    finally:
        # Put the row back as it was delivered and as the degrade step made it (no second dbt run).
        query(admin, "update raw.crs__people set postcode = %s where _extract_date = %s and person_id = %s "
                     "returning 1", (postcode, night, person))
        restored = db.connect(transformer)
        query(restored, "update intermediate.int_regional_pool__children set postcode_sector = %s, degrade_failure = null "
                        "where degrade_failure = 'postcode is not a UK postcode' returning 1", (sector,))
        restored.commit()
        restored.close()
        admin.close()
    assert exposed["regional_pool"] == [] and views == {"partnership": len(exposed["partnership"])}
    assert status == "withheld" and "postcode is not a UK postcode (1 rows)" in reason
    # Undone: the degrade steps all succeed again, and the pool reads its extract.
    check = db.connect(transformer)
    with check.cursor() as cur:
        assert audiences.regional_pool_failures(cur) == {}
    check.close()
    assert rows_as(published_night, DECLARATION.audience("regional_pool").name,
                   "select count(*) from regional_pool.children")[0][0] > 0
