"""The reference computation's own rules, on the worked examples of docs/marts.md and docs/rules.md.

The reference (tests/reference/) is the oracle the marts are compared with, so its rules are
pinned here first, by hand, with no database: a wrong reference would otherwise pass or fail the
marts for the wrong reason.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from reference import inputs, missing, pathway, scorecard
from reference.landing import checked_rows
from reference.rules import add_months, london_instants, nth_birthday, working_day_deadline


def test_working_days_as_the_cin_census_validator_counts_them():
    # docs/marts.md: a strategy discussion on Wednesday 1 April 2026 has 15 working days ending on
    # Thursday 23 April (Good Friday 3 April and Easter Monday 6 April skipped).
    assert working_day_deadline(date(2026, 4, 1), 15) == date(2026, 4, 23)
    # The start day is day one: within 1 working day of a Wednesday is that Wednesday.
    assert working_day_deadline(date(2026, 4, 1), 1) == date(2026, 4, 1)
    # One-off bank holidays come from the library: the State Funeral, Monday 19 September 2022.
    assert working_day_deadline(date(2022, 9, 16), 2) == date(2022, 9, 20)
    # Before 2015 too (issue 15 item 7): Christmas 2010 fell on a weekend, substitute days 27-28 December.
    assert working_day_deadline(date(2010, 12, 24), 2) == date(2010, 12, 29)


def test_months_clamp_to_the_month_end_and_29_february_birthdays_fall_on_28_february():
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), -3) == date(2023, 11, 29)
    assert nth_birthday(date(2008, 2, 29), 18) == date(2026, 2, 28)
    assert nth_birthday(date(2008, 2, 29), 16) == date(2024, 2, 29)


def test_local_clock_times_are_real_instants_across_the_clock_changes():
    got = london_instants(pd.Series(["2026-03-29 00:30", "2026-03-29 02:30", "2026-03-29 01:30",
                                     "2025-10-26 00:30", "2025-10-26 01:30", ""]))
    utc = [t.strftime("%Y-%m-%d %H:%M") if not pd.isna(t) else None for t in got]
    # 02:30 BST is 01:30 UTC; the nonexistent 01:30 and the repeated 01:30 are read as GMT.
    assert utc == ["2026-03-29 00:30", "2026-03-29 01:30", "2026-03-29 01:30", "2025-10-25 23:30",
                   "2025-10-26 01:30", None]


def _inputs(extract_date, **feeds):
    return inputs.Inputs(extract_date, {k: pd.DataFrame(v, dtype=str) for k, v in feeds.items()})


def _people(*ids, dob="2010-01-01"):
    return [{"person_id": p, "nhs_number": "", "date_of_birth": dob} for p in ids]


def test_72_hours_are_real_hours_and_a_window_open_at_the_extract_time_is_pending():
    night = date(2026, 3, 31)  # the clocks went forward at 01:00 GMT on Sunday 29 March
    episodes = [
        # returned Friday 27 March 12:00 GMT: 72 real hours end at 13:00 BST on Monday 30 March
        {"episode_id": "E1", "person_id": "P1", "missing_type": "M", "missing_start": "2026-03-27 08:00",
         "missing_end": "2026-03-27 12:00", "looked_after": "Y", "team": "T"},
        # returned Monday 30 March 12:00: its 72 hours end after the extract time (midnight on the 31st)
        {"episode_id": "E2", "person_id": "P2", "missing_type": "M", "missing_start": "2026-03-30 08:00",
         "missing_end": "2026-03-30 12:00", "looked_after": "N", "team": "T"},
        # recorded twice: same child, same start
        {"episode_id": "E3", "person_id": "P3", "missing_type": "A", "missing_start": "2026-01-05 08:00",
         "missing_end": "2026-01-05 18:00", "looked_after": "Y", "team": "T"},
        {"episode_id": "E4", "person_id": "P3", "missing_type": "A", "missing_start": "2026-01-05 08:00",
         "missing_end": "2026-01-05 18:00", "looked_after": "Y", "team": "T"},
    ]
    forms = [
        {"rhi_id": "R1", "episode_id": "E1", "offered_at": "2026-03-30 13:00", "interview_at": "2026-03-30 13:01",
         "outcome": "OFFERED_ACCEPTED", "conducted_by": "COUNCIL"},  # 72:00 real hours (73 by the wall clock)
        {"rhi_id": "R3", "episode_id": "E4", "offered_at": "2026-01-05 17:00", "interview_at": "",
         "outcome": "OFFERED_DECLINED", "conducted_by": "COUNCIL"},  # an hour before the return
    ]
    given = _inputs(night, crs__people=_people("P1", "P2", "P3"), crs__missing_episodes=episodes,
                    crs__return_home_interviews=forms)
    rows = missing.episodes(given, "key").set_index("episode")
    assert list(rows.index) == ["E1", "E2", "E3"]  # one episode of the absence recorded twice
    assert rows.loc["E1", "offered_within_72h"] and rows.loc["E1", "hours_to_offer"] == 72.0
    assert not rows.loc["E1", "interviewed_within_72h"] and rows.loc["E1", "hours_to_interview"] == 72.02
    assert not rows.loc["E2", "in_denominator"]  # pending, not late
    assert rows.loc["E3", "offer_before_return"] and pd.isna(rows.loc["E3", "hours_to_offer"])  # no negative hours
    assert rows.loc["E3", "in_denominator"] and not rows.loc["E3", "offered_within_72h"]
    assert scorecard.rhi01_offered_within_72_hours(rows.reset_index()) == {date(2026, 3, 1): (1, 1),
                                                                           date(2026, 1, 1): (0, 1)}


def test_eligibility_is_13_weeks_in_total_since_14_with_a_period_after_16():
    dob = date(2007, 5, 27)
    b16 = nth_birthday(dob, 16)
    # In care at 14 for nine months, back in care after 16: eligible the day care starts again.
    spans = [(date(2021, 7, 12), date(2022, 4, 9), "C2"), (date(2023, 8, 15), date(2023, 11, 18), "C2")]
    assert pathway.eligibility(dob, spans, date(2026, 11, 22)) == date(2023, 8, 15)
    # Looked after from 60 days before 16: the 91st day, counting the first, is 30 days after 16.
    spans = [(b16 - timedelta(days=60), None, "C2")]
    assert pathway.eligibility(dob, spans, date(2026, 11, 22)) == b16 + timedelta(days=30)
    # 76 days only (issue 15 item 4's example): never eligible; 91 days ending the day after 16: eligible that day.
    assert pathway.eligibility(dob, [(b16 - timedelta(days=40), b16 + timedelta(days=36), "C2")], date(2026, 11, 22)) is None
    assert pathway.eligibility(dob, [(b16 - timedelta(days=90), b16 + timedelta(days=1), "C2")],
                               date(2026, 11, 22)) == b16
    # Short breaks (V3/V4) do not count (regulation 40(2)).
    assert pathway.eligibility(dob, [(b16 - timedelta(days=200), None, "V4")], date(2026, 11, 22)) is None


def test_the_row_checks_hold_back_what_the_loader_holds_back():
    from extract.feeds import CRS_MISSING_EPISODES

    rows = pd.DataFrame([
        {"episode_id": "E1", "person_id": "P1", "missing_type": "M", "missing_start": "2026-01-01 10:00",
         "missing_end": "2026-01-01 09:00", "looked_after": "Y", "team": "T"},  # end before start
        {"episode_id": "E2", "person_id": "P1", "missing_type": "X", "missing_start": "2026-01-02 10:00",
         "missing_end": "", "looked_after": "Y", "team": "T"},  # unknown code
        {"episode_id": "E3", "person_id": "P1", "missing_type": "M", "missing_start": "2026-02-30 10:00",
         "missing_end": "", "looked_after": "Y", "team": "T"},  # not a date
        {"episode_id": "E4", "person_id": "P1", "missing_type": "M", "missing_start": "2026-01-03 10:00",
         "missing_end": "", "looked_after": "Y", "team": "T"},
        {"episode_id": "E4", "person_id": "P2", "missing_type": "M", "missing_start": "2026-01-04 10:00",
         "missing_end": "", "looked_after": "Y", "team": ""},  # repeated key (and an empty required value)
        {"episode_id": "E4", "person_id": "P2", "missing_type": "M", "missing_start": "2026-01-04 10:00",
         "missing_end": "", "looked_after": "Y", "team": "T"},  # repeated key
    ], dtype=str)
    kept, held = checked_rows(CRS_MISSING_EPISODES, rows)
    assert list(kept["missing_start"]) == ["2026-01-03 10:00"]
    assert list(held["reason"]) == ["end before start", "missing_type: malformed or unknown code",
                                    "missing_start: malformed or unknown code", "team: required", "duplicate key"]
