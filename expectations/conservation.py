"""Conservation: every row of the night's feeds is accounted for in the person-level marts.

For each person-level mart and each feed it is built from:

    rows in  =  rows out  +  exclusions

* **rows in**: the feed's rows for the night in ``raw`` (a snapshot feed: the night's batch;
  an incremental feed: the distinct keys delivered up to the night, as staging keeps them).
  Counted straight from the raw zone, not from staging or the marts.
* **rows out**: how many of them the mart holds (``rows_out`` below: a row each, or a count
  column such as ``police_notification_count`` where the mart folds several records into one
  event).
* **exclusions**: the feed's records the mart does not show, one row each with its reason,
  in ``mart_data_quality_exclusions`` (a missing episode recorded twice, an interview record
  matching no episode, a care leaver with no pathway plan duty, an episode outside the year).

Two uses, from the one declaration (``CONSERVED``):

* a **critical** check per (mart, feed) in the marts' quality gate (``conservation_checks``,
  in the mart suites of expectations/suites.py): a row lost or doubled by a join holds
  the night back;
* the **conservation table** of the night (``record``), kept in ``dq.mart_conservation`` for
  auditors and shown in the quality report (expectations/quality_report.py).

docs/marts.md, "Every row accounted for", lists the marts, feeds and reasons. A new
person-level mart is declared here with the feeds it is built from.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from extract.feeds import (
    CRS_ASSESSMENTS,
    CRS_CARE_LEAVERS,
    CRS_CONTACTS,
    CRS_CP_PLANS,
    CRS_ICPCS,
    CRS_LOOKED_AFTER_EPISODES,
    CRS_MISSING_EPISODES,
    CRS_REFERRALS,
    CRS_RETURN_HOME_INTERVIEWS,
    CRS_S47_ENQUIRIES,
    CRS_TRACKER_ENTRIES,
    POLICE_MISSING_NOTIFICATIONS,
    PROVIDER_RETURN_INTERVIEWS,
    Feed,
)

EXCLUSIONS_TABLE = "mart_data_quality_exclusions"
DQ_TABLE = "dq.mart_conservation"


@dataclass(frozen=True)
class Conserved:
    """One feed of one person-level mart. ``rows_out``: an aggregate over the mart's rows that
    counts the feed's records the mart holds."""

    mart: str
    feed: Feed
    rows_out: str = "count(*)"


CONSERVED: tuple[Conserved, ...] = (
    Conserved("mart_return_home_interviews", CRS_MISSING_EPISODES, "count(*) filter (where recorded_by_council)"),
    Conserved("mart_return_home_interviews", POLICE_MISSING_NOTIFICATIONS, "coalesce(sum(police_notification_count), 0)"),
    Conserved("mart_return_home_interviews", CRS_RETURN_HOME_INTERVIEWS, "coalesce(sum(council_form_count), 0)"),
    Conserved("mart_return_home_interviews", PROVIDER_RETURN_INTERVIEWS, "coalesce(sum(provider_return_count), 0)"),
    Conserved("mart_pathway_plans", CRS_CARE_LEAVERS, "count(*) filter (where recorded_eligibility_category is not null)"),
    Conserved("mart_front_door_contacts", CRS_CONTACTS),
    Conserved("mart_front_door_referrals", CRS_REFERRALS),
    Conserved("mart_front_door_assessments", CRS_ASSESSMENTS),
    Conserved("mart_child_protection_s47_enquiries", CRS_S47_ENQUIRIES),
    Conserved("mart_child_protection_conferences", CRS_ICPCS),
    Conserved("mart_child_protection_plans", CRS_CP_PLANS),
    Conserved("mart_trackers", CRS_TRACKER_ENTRIES),
    Conserved("mart_looked_after_children", CRS_LOOKED_AFTER_EPISODES, "coalesce(sum(episodes_in_year_count), 0)"),
)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rows_in_sql(feed: Feed, extract_date: datetime.date) -> str:
    """The feed's rows for the night, counted in raw (see the module docstring)."""
    night = f"'{extract_date.isoformat()}'"
    if feed.snapshot:
        return f"select count(*) from {feed.raw_table} where _extract_date = {night}"
    key = ", ".join(f"trim({_quoted(k)})" for k in feed.key)
    return f"select count(distinct ({key})) from {feed.raw_table} where _extract_date <= {night}"


def counts_sql(c: Conserved, extract_date: datetime.date, schema: str, mart_relation: str) -> str:
    return (f"select ({rows_in_sql(c.feed, extract_date)}) as rows_in, "
            f"(select {c.rows_out} from {mart_relation}) as rows_out, "
            f"(select count(*) from {schema}.{EXCLUSIONS_TABLE} "
            f"where mart = '{c.mart}' and feed = '{c.feed.id}') as excluded")


DDL = f"""
create table if not exists {DQ_TABLE} (
    run_id        text        not null,
    extract_date  date        not null,
    mart          text        not null,
    feed          text        not null,
    rows_in       bigint,
    rows_out      bigint,
    excluded      bigint,
    balanced      boolean,
    exclusions    jsonb       not null default '{{}}',
    message       text,
    recorded_at   timestamptz not null default now(),
    primary key (run_id, mart, feed)
);
comment on table {DQ_TABLE} is
    'Conservation per person-level mart and feed, each night: rows in (raw) = rows out (the mart) + exclusions (mart_data_quality_exclusions, by reason). balanced is false when rows were lost or doubled.';
"""


def measure(conn, extract_date: datetime.date, schema: str) -> list[dict]:
    """The night's conservation table, one dict per (mart, feed), from the build in ``schema``.
    A mart or table that is missing (a failed build) gives a row with the error as its message."""
    rows = []
    for c in CONSERVED:
        row = {"mart": c.mart, "feed": c.feed.id, "rows_in": None, "rows_out": None, "excluded": None,
               "balanced": None, "exclusions": {}, "message": None}
        try:
            with conn.cursor() as cur:
                cur.execute(counts_sql(c, extract_date, schema, f"{schema}.{c.mart}"))
                row["rows_in"], row["rows_out"], row["excluded"] = cur.fetchone()
                cur.execute(f"select reason_code, count(*) from {schema}.{EXCLUSIONS_TABLE} "
                            "where mart = %s and feed = %s group by 1 order by 1", (c.mart, c.feed.id))
                row["exclusions"] = {code: n for code, n in cur.fetchall()}
            conn.commit()
            row["balanced"] = row["rows_in"] == row["rows_out"] + row["excluded"]
        except Exception as exc:  # noqa: BLE001 - recorded, and the gate's own check fails the night
            conn.rollback()
            row["message"] = str(exc).strip().splitlines()[0]
        rows.append(row)
    return rows


def record(conn, *, run_id: str, extract_date: datetime.date, schema: str) -> list[dict]:
    """Measure the night's conservation and keep it in dq.mart_conservation (replacing this run's rows)."""
    from warehouse import dq

    rows = measure(conn, extract_date, schema)
    dq.ensure_schema(conn)  # the dq schema, before this table
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('dq.mart_conservation'))")
        dq.as_dq_writer(cur)  # the dq tables belong to the group both pipeline roles are in (warehouse/roles.py)
        cur.execute(DDL)
        cur.execute(f"delete from {DQ_TABLE} where run_id = %s", (run_id,))
        for r in rows:
            cur.execute(f"""insert into {DQ_TABLE} (run_id, extract_date, mart, feed, rows_in, rows_out, excluded,
                                                   balanced, exclusions, message)
                            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                        (run_id, extract_date, r["mart"], r["feed"], r["rows_in"], r["rows_out"], r["excluded"],
                         r["balanced"], json.dumps(r["exclusions"]), r["message"]))
    conn.commit()
    dq.ensure_schema(conn)  # and again: it grants the auditor role read access to every dq table
    return rows
