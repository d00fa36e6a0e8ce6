"""The working-day calendar (issue 15, item 7): generated from the pinned `holidays` package, for
every year the data can hold. Pure Python: the dbt side (a 2009 night builds, a date outside the
calendar stops with an error naming it) is in tests/test_numbers.py."""

import csv
from datetime import date

from warehouse import bank_holidays


def seed_rows() -> list[dict]:
    with bank_holidays.SEED.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_seed_is_what_the_pinned_package_generates():
    """Edited by hand, or a new package release not yet applied: regenerate the seed
    (python -m warehouse.bank_holidays)."""
    assert bank_holidays.main(["--check"]) == 0


def test_the_calendar_covers_every_year_the_data_can_hold():
    from expectations.suites import EARLIEST_PLAUSIBLE_DATE

    years = {int(r["holiday_date"][:4]) for r in seed_rows()}
    assert min(years) == bank_holidays.FIRST_YEAR == int(EARLIEST_PLAUSIBLE_DATE[:4])
    assert max(years) == bank_holidays.LAST_YEAR
    assert set(range(2009, 2015)) <= years  # history councils load (the calendar used to start in 2015)


def test_weekdays_only_with_substitutes_and_one_off_holidays():
    days = {date.fromisoformat(r["holiday_date"]): r["holiday_name"] for r in seed_rows()}
    assert all(d.weekday() < 5 for d in days)
    # Easter 2009; Boxing Day 2009 (a Saturday) moved to Monday 28 December; the one-off days.
    assert {date(2009, 4, 10), date(2009, 4, 13), date(2009, 12, 28)} <= set(days)
    assert "substitute day" in days[date(2009, 12, 28)]
    assert {date(2012, 6, 5), date(2020, 5, 8), date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)} <= set(days)
