"""The missing / return home interview and pathway plan marts, built by real dbt on a tiny night.

The session's tiny night (tests/nights.py: generated, loaded into a database of its own, built by
the nightly `dbt build` with its snapshots and data tests, and published, once for every module
that reads it). Each test recomputes a headline figure in plain Python from the generated CSV
files, following the rules in docs/marts.md, and compares it with the published mart. Nothing
here reads the pipeline's own intermediate results to build an expectation.
"""

from __future__ import annotations

import calendar
import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import TEST_KEY
from helpers import dbt_var, query

NIGHT = date(2026, 11, 22)  # the session's shared tiny night
LONDON = ZoneInfo("Europe/London")
# The defaults in dbt_project/dbt_project.yml (docs/marts.md).
RHI_HOURS = dbt_var("rhi_timescale_hours")
MATCH_TOLERANCE = timedelta(hours=dbt_var("missing_match_tolerance_hours"))
PROVIDER_WINDOW = timedelta(hours=dbt_var("provider_referral_match_window_hours"))
STATUTORY_MONTHS = dbt_var("pathway_plan_statutory_months")
PRACTICE_MONTHS = dbt_var("pathway_plan_practice_window_months")
REVIEW_MONTHS = dbt_var("pathway_plan_review_months")


# --- reading the generated files ------------------------------------------------------------------

def read(landing: Path, source: str, feed: str) -> list[dict]:
    with (landing / source / NIGHT.isoformat() / f"{feed}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def when(text: str) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON) if text else None


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def add_months(d: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (as PostgreSQL does)."""
    month_index = d.year * 12 + d.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def nth_birthday(dob: date, years: int) -> date:
    return add_months(dob, 12 * years)  # 29 February -> 28 February in a non-leap year


# --- the module's one build -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def night(built_nights):
    return built_nights.get("tiny", NIGHT)


@pytest.fixture(scope="module")
def built(night) -> Path:
    """The night's landing folder: the files every expectation here is computed from."""
    return night.landing_dir


@pytest.fixture
def conn(night):
    """The night's own database (not the session's)."""
    c = night.connect()
    yield c
    c.rollback()
    c.close()


# --- independent recomputation: the partnership's missing episodes --------------------------------

def kept_episodes(landing: Path) -> tuple[list[dict], dict[str, str]]:
    """The council's episodes, one per event (docs/marts.md, "One event, one row"): records of the
    same child and start are one, the kept record the first with a return, then by episode id.
    Returns the kept records and, for every record id, the id of the record kept for its event."""
    events = defaultdict(list)
    for e in read(landing, "crs", "missing_episodes"):
        events[(e["person_id"], e["missing_start"])].append(e)
    kept, kept_id = [], {}
    for records in events.values():
        first = min(records, key=lambda r: (r["missing_end"] == "", r["episode_id"]))
        kept.append(first)
        kept_id.update({r["episode_id"]: first["episode_id"] for r in records})
    return kept, kept_id


def police_only_episode_count(landing: Path) -> int:
    """Episodes the police notified that the council never recorded (docs/marts.md rules)."""
    people = {p["person_id"]: p for p in read(landing, "crs", "people")}
    by_nhs = defaultdict(set)
    for p in people.values():
        if p["nhs_number"]:
            by_nhs[p["nhs_number"]].add(p["person_id"])
    episodes = defaultdict(list)  # person -> [(episode id, start, return)]
    for e in kept_episodes(landing)[0]:
        episodes[e["person_id"]].append((e["episode_id"], when(e["missing_start"]), when(e["missing_end"])))
    far = datetime.max.replace(tzinfo=LONDON)

    def matches(reported, found, start, returned):
        overlap = reported <= (returned or far) and start <= (found or far)
        return overlap or abs(reported - start) <= MATCH_TOLERANCE

    notifications = read(landing, "police", "missing_notifications")
    candidates = defaultdict(set)  # police reference -> council people it points to
    for n in notifications:
        reported, found = when(n["reported_missing_at"]), when(n["found_at"])
        if n["crs_person_id"] in people:
            candidates[n["police_person_reference"]].add(n["crs_person_id"])
        elif len(by_nhs.get(n["nhs_number"], ())) == 1:
            candidates[n["police_person_reference"]].update(by_nhs[n["nhs_number"]])
        elif not n["crs_person_id"] and n["date_of_birth"]:
            fits = {pid for pid, p in people.items() if p["date_of_birth"] == n["date_of_birth"]
                    and any(matches(reported, found, s, r) for _, s, r in episodes[pid])}
            if len(fits) == 1:
                candidates[n["police_person_reference"]].update(fits)
    person_of = {ref: next(iter(c)) for ref, c in candidates.items() if len(c) == 1}

    unrecorded = defaultdict(list)  # child -> [(reported, found)]
    for n in notifications:
        reported, found = when(n["reported_missing_at"]), when(n["found_at"])
        person = person_of.get(n["police_person_reference"])
        if person and any(matches(reported, found, s, r) for _, s, r in episodes[person]):
            continue
        unrecorded[person or "police:" + n["police_person_reference"]].append((reported, found))
    count = 0
    for reports in unrecorded.values():
        latest_end = None
        for reported, found in sorted(reports, key=lambda r: r[0]):
            if latest_end is None or reported > latest_end + MATCH_TOLERANCE:
                count += 1  # a new absence, not a re-report of the last one
            end = found or reported
            latest_end = end if latest_end is None else max(latest_end, end)
    return count


def council_offers_within_72h(landing: Path) -> tuple[int, int, int, int]:
    """(council episodes measured, open, pending, offered within 72 h) using the council's RHI forms
    and the provider returns that name a council episode (a duplicate record's id counts for the
    record kept). Pending: returned, no offer yet, and the 72 hours run to or past the end of the
    extract day (midnight after it, London time)."""
    kept, kept_id = kept_episodes(landing)
    episodes = {e["episode_id"]: e for e in kept}
    first_offer: dict[str, datetime] = {}
    offers = [(f["episode_id"], f["offered_at"]) for f in read(landing, "crs", "return_home_interviews")]
    offers += [(p["crs_episode_id"], p["offered_at"]) for p in read(landing, "provider", "return_interviews")
               if p["crs_episode_id"]]
    for episode_id, offered_at in offers:
        if offered_at and episode_id in kept_id:
            offered = when(offered_at)
            first_offer[kept_id[episode_id]] = min(offered, first_offer.get(kept_id[episode_id], offered))
    extract_end = datetime.combine(NIGHT + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    returned = {e: when(r["missing_end"]) for e, r in episodes.items() if r["missing_end"]}
    pending = {e for e, back in returned.items()
               if e not in first_offer and back + timedelta(hours=RHI_HOURS) >= extract_end}
    on_time = sum(1 for e, back in returned.items()
                  if e in first_offer and back <= first_offer[e] <= back + timedelta(hours=RHI_HOURS))
    return len(returned) - len(pending), len(episodes) - len(returned), len(pending), on_time


# --- independent recomputation: pathway plans ---------------------------------------------------

def derived_categories(landing: Path) -> dict[str, tuple[str, date]]:
    """Leaving-care category and eligibility date as at the night, derived from the looked-after
    episodes by reg 40 (docs/marts.md, "Derive what the statute defines"): the 13 weeks counted by
    synthetic.generate.eligibility_date, written apart from the SQL."""
    from synthetic.generate import eligibility_date

    periods = defaultdict(list)
    for e in read(landing, "crs", "looked_after_episodes"):
        if e["legal_status"] not in ("V3", "V4") and day(e["start_date"]) <= NIGHT:
            periods[e["person_id"]].append((day(e["start_date"]), day(e["end_date"])))
    in_education = {cl["person_id"]: cl["in_education"] == "Y" for cl in read(landing, "crs", "care_leavers")}
    found = {}
    for p in read(landing, "crs", "people"):
        dob, person = day(p["date_of_birth"]), p["person_id"]
        eligible = eligibility_date(dob, periods[person]) if dob and periods[person] else None
        if eligible is None or eligible > NIGHT:
            continue
        if NIGHT < nth_birthday(dob, 18):
            looked_after = any(s <= NIGHT and (e is None or NIGHT < e) for s, e in periods[person])
            found[person] = ("ELIGIBLE" if looked_after else "RELEVANT", eligible)
        elif NIGHT < nth_birthday(dob, 21) or (in_education.get(person) and NIGHT < nth_birthday(dob, 25)):
            found[person] = ("FORMER_RELEVANT", eligible)
    return found


def pathway_figures(landing: Path) -> dict[str, int]:
    dob = {p["person_id"]: day(p["date_of_birth"]) for p in read(landing, "crs", "people")}
    events = defaultdict(list)
    for e in read(landing, "crs", "pathway_plan_events"):
        events[e["person_id"]].append((e["event_type"], day(e["event_date"])))
    figures = defaultdict(int)
    derived = derived_categories(landing)
    recorded = {cl["person_id"]: cl for cl in read(landing, "crs", "care_leavers")
                if cl["eligibility_category"] != "QUALIFYING"}
    for person in sorted(set(derived) | set(recorded)):
        cl = recorded.get(person, {"activity": ""})
        figures["young_people"] += 1
        sixteen = nth_birthday(dob[person], 16) if dob.get(person) else None
        # The statutory clock: the derived category and eligibility date (docs/marts.md).
        due = add_months(max(sixteen, derived[person][1]), STATUTORY_MONTHS) if person in derived else None
        plans = sorted(d for t, d in events[person] if t == "PATHWAY_PLAN")
        first_plan = plans[0] if plans else None
        if first_plan and due and first_plan <= due:
            figures["statutory_on_time"] += 1
        if person in derived and first_plan and add_months(sixteen, -PRACTICE_MONTHS) <= first_plan <= sixteen:
            figures["practice_standard_met"] += 1
        plan_dates = sorted(d for t, d in events[person] if t in ("PATHWAY_PLAN", "PATHWAY_PLAN_REVIEW"))
        if plan_dates and NIGHT > add_months(plan_dates[-1], REVIEW_MONTHS):
            figures["review_overdue"] += 1
        gaps = [(b - a).days for a, b in zip(plan_dates, plan_dates[1:])]
        figures["longest_gap_total"] += max(gaps) if gaps else 0
        if cl["activity"][:1] in ("F", "P"):
            figures["eet"] += 1
    return figures


# --- the tests -------------------------------------------------------------------------------------

def test_police_notified_episodes_the_council_never_recorded_are_counted(built, conn):
    expected = police_only_episode_count(built)
    assert expected > 0  # the generator seeds them: the test would be empty otherwise
    [(in_mart,)] = query(conn, "select count(*) from marts.mart_return_home_interviews "
                               "where not recorded_by_council and notified_by_police")
    [(in_monthly,)] = query(conn, "select sum(police_notified_not_recorded_count) "
                                  "from marts.mart_return_home_interviews_monthly")
    assert in_mart == in_monthly == expected


def test_council_episodes_and_72_hour_offers_match_the_files(built, conn):
    measured, still_open, pending, on_time = council_offers_within_72h(built)
    figures = query(conn, """
        select count(*) filter (where in_denominator), count(*) filter (where episode_status = 'open'),
               count(*) filter (where offer_status = 'PENDING'), count(*) filter (where offered_within_72h)
        from marts.mart_return_home_interviews where recorded_by_council""")
    assert figures == [(measured, still_open, pending, on_time)]
    # The monthly aggregate adds up to the same totals (every episode in exactly one cell).
    [(monthly_measured, monthly_open)] = query(conn, """
        select sum(offer_measured_count), sum(open_episodes_count)
        from marts.mart_return_home_interviews_monthly""")
    [(all_measured, all_open)] = query(conn, """
        select count(*) filter (where in_denominator), count(*) filter (where episode_status = 'open')
        from marts.mart_return_home_interviews""")
    assert (monthly_measured, monthly_open) == (all_measured, all_open)


def test_pathway_plan_measures_match_the_files(built, conn):
    expected = pathway_figures(built)
    assert expected["young_people"] > 0 and expected["statutory_on_time"] > 0
    [row] = query(conn, """
        select count(*), count(*) filter (where statutory_on_time), count(*) filter (where practice_standard_met),
               count(*) filter (where review_overdue), coalesce(sum(longest_review_interval_days), 0),
               count(*) filter (where is_in_education_employment_training)
        from marts.mart_pathway_plans""")
    assert row == (expected["young_people"], expected["statutory_on_time"], expected["practice_standard_met"],
                   expected["review_overdue"], expected["longest_gap_total"], expected["eet"])
    [(monthly_total, monthly_on_time)] = query(conn, """
        select sum(young_people_count), sum(statutory_on_time_count) from marts.mart_pathway_plans_monthly""")
    assert (monthly_total, monthly_on_time) == (expected["young_people"], expected["statutory_on_time"])


def test_marts_carry_pseudonymous_keys_and_no_date_of_birth(built, conn):
    from warehouse.pseudonymisation import pseudonym

    a_care_leaver = next(iter(derived_categories(built)))
    assert query(conn, "select count(*) from marts.mart_pathway_plans where person_key = %s",
                 (pseudonym(TEST_KEY, "person", a_care_leaver),)) == [(1,)]
    columns = dict(query(conn, """
        select column_name, data_type from information_schema.columns where table_schema = 'marts'
          and table_name in ('mart_pathway_plans', 'mart_pathway_plans_monthly',
                             'mart_return_home_interviews', 'mart_return_home_interviews_monthly')"""))
    assert {"birth_month", "age_band"} <= set(columns)
    # A birth-related date is only ever a month (first of the month), never a date of birth.
    assert not [c for c, t in columns.items() if "birth" in c and t == "date" and not c.endswith("_month")]
    assert not [c for c in columns if c.endswith("_id") or c in ("person_id", "nhs_number", "postcode")]


def test_unmatched_police_children_are_reported_and_snapshots_hold_the_night(built, conn):
    notifications = read(built, "police", "missing_notifications")
    people = {p["person_id"] for p in read(built, "crs", "people")}
    # A police reference that never carried an identifier nor matched by birth and time stays unmatched:
    # every unmatched reference is one the files show without a known council person id.
    unmatched = {r for (r,) in query(conn, "select source_person_reference from intermediate.int_people__unmatched "
                                           "where source_system = 'police'")}
    assert unmatched
    known_ids = {n["police_person_reference"] for n in notifications if n["crs_person_id"] in people}
    assert not unmatched & known_ids
    # Versions are dated by the extract date (midnight), never by the wall clock.
    assert query(conn, "select count(*) from snapshots.snp_crs__people "
                       "where dbt_valid_from <> date_trunc('day', dbt_valid_from)") == [(0,)]
    # The night's database holds this night alone: its history starts with it.
    assert query(conn, "select min(dbt_valid_from)::date from snapshots.snp_crs__people") == [(NIGHT,)]
    as_at = query(conn, "select count(*) from snapshots.snp_crs__people where dbt_valid_from <= %s "
                        "and coalesce(dbt_valid_to, 'infinity') > %s", (NIGHT, NIGHT))
    assert as_at == [(len(people),)]
