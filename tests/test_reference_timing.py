"""Property-based tests of the timing rules: random cases, real dbt on a real PostgreSQL, the reference.

For each of two extract dates (the spring and the autumn clock-change Sundays, so the extract time
itself sits next to a clock change), hypothesis draws a batch of cases per family
(tests/timing_scenarios.py): missing episodes, returns and offers across clock changes, month
ends and 29 February, still open at the extract time, offered before the return, recorded twice;
contacts around their 24 hours; assessments and section 47 enquiries starting by bank-holiday
weekends and finishing around their 45th / 15th working day (from 2016, and before 2015);
care leavers around the 13 weeks since 14 that make them eligible, with plans and reviews around
their deadlines. One child per case. The batch is written as the night's delivered files, loaded
by the real loader, and built by one `dbt build` of the marts concerned (no dbt tests); each test then compares
one family's rows in the marts with the reference computation (tests/reference/), column by column.

Pinned: the hypothesis seed and the number of cases (about 600 cases a night, one dbt build each);
no shrinking (each check costs a dbt build): a failure prints every differing row side by side.
"""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd
import pytest

from conftest import TEST_KEY
from helpers import drop_database, fresh_database
from nights import load_files
from reference import compare, missing, pathway
from reference import inputs as reference_inputs
from reference import scorecard as reference_scorecard
from test_reference import PATHWAY_COLUMNS, PATHWAY_KEYS, RHI_COLUMNS, RHI_KEYS, RHI_ONLY_COUNTED, compared_columns
from timing_scenarios import care_leaver, contact, draw, missing_episode, working_days_case

pytestmark = pytest.mark.slow

# The extract dates: Sunday 29 March 2026 (clocks go forward at 01:00) and Sunday 27 October 2024
# (clocks go back at 02:00; a leap year), each with its own seed.
NIGHTS = {date(2026, 3, 29): 20260329, date(2024, 10, 27): 20241027}
DATABASE = "test_reference_timing"
SELECTION = ["+mart_return_home_interviews", "+mart_pathway_plans", "+mart_front_door_contacts",
             "+mart_front_door_assessments", "+mart_child_protection_s47_enquiries"]
ID_COLUMNS = ("episode_id", "rhi_id", "provider_rhi_id", "crs_episode_id", "contact_id", "assessment_id", "s47_id",
              "icpc_id", "la_episode_id", "event_id")
PERSON_COLUMNS = {"crs__care_leavers": "person_id", "provider__return_interviews": "crs_person_id"}


def families(extract_date: date) -> dict[str, tuple]:
    """Each family's strategy and how many cases a night draws."""
    def derive(dob, episodes, in_education):
        spans = [(date.fromisoformat(e["start_date"]), date.fromisoformat(e["end_date"]) if e["end_date"] else None,
                  e["legal_status"]) for e in episodes]
        eligible_from = pathway.eligibility(dob, spans, extract_date)
        now = any(s <= extract_date and (e is None or e > extract_date) and status not in pathway.SHORT_BREAKS
                  for s, e, status in spans)
        return pathway.derived_category(dob, eligible_from, now, in_education, extract_date), eligible_from

    return {
        "rhi_closed": (missing_episode(extract_date, "closed"), 150),
        "rhi_pending": (missing_episode(extract_date, "pending"), 30),
        "rhi_offer_before_return": (missing_episode(extract_date, "offer_before_return"), 10),
        "rhi_duplicate": (missing_episode(extract_date, "duplicate"), 15),
        "rhi_same_minute": (missing_episode(extract_date, "same_minute"), 10),
        "rhi_provider_by_time": (missing_episode(extract_date, "provider_by_time"), 20),
        "contacts": (contact(extract_date), 150),
        "working_days": (working_days_case(extract_date, 2016, extract_date.year), 150),
        "working_days_before_2015": (working_days_case(extract_date, 2009, 2014), 10),
        "pathway_derived": (care_leaver(extract_date, "derived", derive), 100),
        "pathway_as_recorded": (care_leaver(extract_date, "as_recorded", derive), 15),
    }


def write_night(landing, extract_date: date, seed_value: int) -> dict[str, list[str]]:
    """Draw every family's cases, write them as the night's files; {family: [person id]}."""
    from extract.feeds import FEEDS_BY_ID

    rows: dict[str, list[dict]] = {feed_id: [] for feed_id in FEEDS_BY_ID}
    people: dict[str, list[str]] = {}
    for f, (name, (strategy, count)) in enumerate(families(extract_date).items()):
        people[name] = []
        for n, case in enumerate(draw(strategy, count, seed_value + f)):
            person = f"T{f}{n:03d}"
            people[name].append(person)
            born = case.pop("date_of_birth", date(2010, 6, 15))
            rows["crs__people"].append({"person_id": person, "date_of_birth": born.isoformat(), "gender": "1",
                                        "uasc": "N"})
            for feed_id, feed_rows in case.items():
                for row in feed_rows:
                    row = dict(row)
                    row[PERSON_COLUMNS.get(feed_id, "person_id")] = person
                    for column in ID_COLUMNS:
                        if row.get(column):
                            row[column] = f"{person}-{row[column]}"
                    rows[feed_id].append(row)
    for feed_id, feed_rows in rows.items():
        if not feed_rows:
            continue  # not delivered (a snapshot file with no rows would be rejected)
        feed = FEEDS_BY_ID[feed_id]
        path = landing / feed.source / extract_date.isoformat() / feed.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=feed.column_names, lineterminator="\n")
            writer.writeheader()
            writer.writerows({c: r.get(c, "") for c in feed.column_names} for r in feed_rows)
    return people


def build_night(settings, landing, extract_date: date, target) -> dict[str, pd.DataFrame]:
    """Load the night's files with the real loader and `dbt run` the marts; their rows."""
    from extract.feeds import FEEDS
    from warehouse import db
    from warehouse.dbt import run_dbt

    files = {feed.id: landing / feed.source / extract_date.isoformat() / feed.file_name for feed in FEEDS}
    loaded = load_files(settings, {feed_id: path for feed_id, path in files.items() if path.exists()}, extract_date)
    assert all(result.status == "loaded" for result in loaded.values()), loaded
    # The marts and everything they are built from (seeds too), without dbt's tests: the
    # comparison is the test.
    run_dbt(settings, ["build", "--select", *SELECTION, "--exclude-resource-type", "test", "unit_test", "snapshot",
                       "--target-path", str(target), "--log-path", str(target / "logs")],
            extract_date=extract_date.isoformat())
    conn = db.connect(settings)
    marts = {}
    try:
        with conn.cursor() as cur:
            for name in ("mart_return_home_interviews", "mart_pathway_plans", "mart_front_door_contacts",
                         "mart_front_door_assessments", "mart_child_protection_s47_enquiries"):
                cur.execute(f"select * from marts_build.{name}")  # noqa: S608 - our own table names
                marts[name] = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
    finally:
        conn.close()
    return marts


class Night:
    def __init__(self, extract_date, people, marts, landing):
        from warehouse.pseudonymisation import pseudonym

        self.extract_date, self.marts = extract_date, marts
        self.keys = {family: {pseudonym(TEST_KEY, "person", p) for p in persons} for family, persons in people.items()}
        inputs = reference_inputs.from_landing(landing, extract_date)
        self.episodes = missing.episodes(inputs, TEST_KEY)
        self.young = pathway.young_people(inputs, TEST_KEY)
        key = {p: pseudonym(TEST_KEY, "person", p) for persons in people.values() for p in persons}
        self.contacts = reference_scorecard.contacts(inputs).assign(person_key=lambda f: f["person_id"].map(key))
        self.assessments = reference_scorecard.assessments(inputs).assign(person_key=lambda f: f["person_id"].map(key))
        self.s47 = reference_scorecard.s47_enquiries(inputs).assign(person_key=lambda f: f["person_id"].map(key))

    def of(self, family: str, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["person_key"].isin(self.keys[family])]


@pytest.fixture(scope="module")
def nights(settings, tmp_path_factory) -> list[Night]:
    built = []
    for extract_date, seed_value in NIGHTS.items():
        landing = tmp_path_factory.mktemp(f"timing-{extract_date}")
        mine = fresh_database(settings, DATABASE, landing_dir=landing)
        people = write_night(landing, extract_date, seed_value)
        marts = build_night(mine, landing, extract_date, tmp_path_factory.mktemp(f"timing-dbt-{extract_date}"))
        built.append(Night(extract_date, people, marts, landing))
    yield built
    drop_database(settings, DATABASE)


def differences_in(nights: list[Night], family: str, reference, mart: str, keys, columns, only_when=None) -> str:
    """Every night's differences for one family, as text ('' when none)."""
    report = []
    for night in nights:
        ours, theirs = night.of(family, reference(night)), night.of(family, night.marts[mart])
        found = compare.compare_rows(ours, theirs, keys, compared_columns(columns, ours, theirs), only_when)
        if found:
            report.append(f"extract date {night.extract_date}, {family}:\n{compare.side_by_side(found, keys, 30)}")
    return "\n".join(report)


def test_every_family_has_cases_in_the_marts(nights):
    """The comparisons below compare something: each family's children reached their mart."""
    marts = {"rhi": "mart_return_home_interviews", "contacts": "mart_front_door_contacts",
             "working": "mart_front_door_assessments", "pathway": "mart_pathway_plans"}
    for night in nights:
        for family, keys in night.keys.items():
            mart = night.marts[next(m for prefix, m in marts.items() if family.startswith(prefix))]
            assert mart["person_key"].isin(keys).sum() >= 5, (night.extract_date, family)


RHI_ALL = [c for group in RHI_COLUMNS.values() for c in group]


def _rhi_counted(row):
    return set(RHI_ALL) - (RHI_ONLY_COUNTED if not row["in_denominator"] else set())


def _rhi(family):
    return lambda nights: differences_in(nights, family, lambda n: n.episodes, "mart_return_home_interviews",
                                         RHI_KEYS, RHI_ALL, _rhi_counted)


def test_return_interviews_within_72_hours_across_clock_changes_and_month_ends(nights):
    """Returned episodes whose 72 hours ended before the extract time, offers either side of 72:00."""
    assert not (found := _rhi("rhi_closed")(nights)), found


def test_a_return_whose_72_hours_are_still_open_is_pending(nights):
    assert not (found := _rhi("rhi_pending")(nights)), found


def test_an_offer_recorded_before_the_return_has_no_negative_hours(nights):
    assert not (found := _rhi("rhi_offer_before_return")(nights)), found


def test_an_episode_recorded_twice_is_one_episode(nights):
    assert not (found := _rhi("rhi_duplicate")(nights)), found


def test_two_offers_in_the_same_minute_take_the_lowest_id(nights):
    """docs/marts.md: the first offer across both sources, "earliest offer, then records with no
    offer, lowest id"."""
    assert not (found := _rhi("rhi_same_minute")(nights)), found


def test_a_provider_return_is_tied_by_child_and_time_within_168_hours(nights):
    """docs/marts.md: a provider return with no council episode id or police notification is "the
    child's latest episode that started before the referral and returned at most 168 h before it":
    referred during the absence, at the 168th hour after the return and the minute after, or while
    the child is still missing (see the reference's decisions in docs/marts.md)."""
    assert not (found := _rhi("rhi_provider_by_time")(nights)), found


def test_contacts_decided_within_24_real_hours(nights):
    def counted(row):
        return {"contact_month", "in_denominator", "hours_to_decision"} | (
            {"decided_within_24h"} if row["in_denominator"] else set())

    found = differences_in(nights, "contacts", lambda n: n.contacts.rename(columns={"month": "contact_month"}),
                           "mart_front_door_contacts", ["person_key", "contact_at"],
                           ["contact_month", "decision_status", "in_denominator", "decided_within_24h",
                            "hours_to_decision"], lambda row: counted(row) | {"decision_status"})
    assert not found, found


def _working_day_deadlines(nights, family):
    """The calendar: due dates, and on time or late for the items that happened."""
    assessments = differences_in(
        nights, family, lambda n: n.assessments.rename(columns={"within_45_working_days": "authorised_within_45_working_days"}),
        "mart_front_door_assessments", ["person_key", "start_date"],
        ["due_date", "authorised_month", "authorised_within_45_working_days"],
        lambda row: {"due_date", "authorised_month"}
        | ({"authorised_within_45_working_days"} if row["authorised_date"] else set()))
    s47 = differences_in(
        nights, family, lambda n: n.s47, "mart_child_protection_s47_enquiries", ["person_key", "strategy_discussion_date"],
        ["icpc_date", "icpc_month", "icpc_due_date", "icpc_within_15_working_days", "never_reached_icpc"],
        lambda row: {"icpc_date", "icpc_month", "icpc_due_date"}
        | ({"icpc_within_15_working_days"} if row["icpc_date"] else set())
        | ({"never_reached_icpc"} if row["outcome_known"] else set()))
    return assessments + s47


def test_working_days_by_bank_holiday_weekends(nights):
    """45 and 15 working days counted as the CIN census validator counts them, 2016 onwards."""
    assert not (found := _working_day_deadlines(nights, "working_days")), found


def test_working_days_before_2015(nights):
    assert not (found := _working_day_deadlines(nights, "working_days_before_2015")), found


def test_an_assessment_open_past_its_45_working_days_is_late_and_one_within_them_pending(nights):
    found = differences_in(
        nights, "working_days", lambda n: n.assessments, "mart_front_door_assessments", ["person_key", "start_date"],
        ["start_month", "timeliness_status", "in_denominator"])
    assert not found, found


PATHWAY_DATES = [c for group, columns in PATHWAY_COLUMNS.items() if group != "plan before care" for c in columns]


def test_pathway_plan_due_dates_windows_and_reviews(nights):
    """Due dates, the local window before 16, six-monthly reviews, 29 February and month ends; the
    recorded category and eligibility date are the ones regulation 40 gives."""
    found = differences_in(nights, "pathway_derived", lambda n: n.young, "mart_pathway_plans", PATHWAY_KEYS,
                           PATHWAY_DATES)
    assert not found, found


def test_pathway_plans_use_the_category_the_statute_gives(nights):
    found = differences_in(nights, "pathway_as_recorded", lambda n: n.young, "mart_pathway_plans", PATHWAY_KEYS,
                           PATHWAY_DATES)
    assert not found, found


def test_a_plan_made_early_for_the_local_standard_is_not_flagged(nights):
    found = differences_in(nights, "pathway_derived", lambda n: n.young, "mart_pathway_plans", PATHWAY_KEYS,
                           PATHWAY_COLUMNS["plan before care"])
    assert not found, found
