"""England and Wales bank holidays for the working-day rules, generated from the `holidays` package.

The dbt seed ``dbt_project/seeds/bank_holidays_england_and_wales.csv`` is written by this module
and never edited by hand (docs/marts.md, "Working days"):

    python -m warehouse.bank_holidays            # rewrite the seed
    python -m warehouse.bank_holidays --check    # exit 1 if the seed differs from the package

Why a maintained library: a typed-in list stops somewhere (the first one stopped at 2015 and
failed a night whose history started earlier) and misses the one-off holidays (jubilees, a state
funeral, a coronation). ``holidays`` is pinned in pyproject.toml; a new release that adds a
newly announced one-off holiday is taken by raising the pin and running this module, and
tests/test_bank_holidays.py fails until the seed is regenerated.

Years: every year the data can hold. Dates before ``EARLIEST_PLAUSIBLE_DATE`` (1900) are
typing errors by the raw quality checks' own rule (expectations/suites.py), so the calendar
starts there, and runs to ``LAST_YEAR``. A working-day rule meeting a date outside the
calendar stops the build with an error that names the date (macros/working_days.sql).

Only weekdays are written: a holiday that falls at a weekend is replaced by its substitute
("observed") day, which the package gives, as gov.uk's published list does.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import date
from pathlib import Path

from .settings import DBT_PROJECT_DIR

SEED = DBT_PROJECT_DIR / "seeds" / "bank_holidays_england_and_wales.csv"
# expectations.suites.EARLIEST_PLAUSIBLE_DATE: nothing in children's services is dated before it.
FIRST_YEAR = 1900
# The last year the calendar covers. Past it, the rules stop with an error naming the date.
LAST_YEAR = 2100


def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[date, str]]:
    """(date, name) of every England and Wales bank holiday on a weekday, in date order."""
    import holidays

    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return sorted((day, name.replace("(observed)", "(substitute day)"))
                  for day, name in calendar.items() if day.weekday() < 5)


def seed_text(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["holiday_date", "holiday_name"])
    for day, name in bank_holidays(first_year, last_year):
        # Two holidays on one day (Christmas and a substitute) cannot happen on a weekday list
        # from one calendar, but the seed's key is the date: join names if the package ever does.
        writer.writerow([day.isoformat(), name])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.bank_holidays", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare the seed with the package")
    parser.add_argument("--seed", type=Path, default=SEED)
    args = parser.parse_args(argv)
    text = seed_text()
    if args.check:
        same = args.seed.exists() and args.seed.read_text(encoding="utf-8") == text
        print(f"{args.seed}: {'up to date' if same else 'differs from the holidays package: regenerate it'}")
        return 0 if same else 1
    args.seed.write_text(text, encoding="utf-8")
    print(f"wrote {args.seed}: {text.count(chr(10)) - 1} bank holidays, {FIRST_YEAR} to {LAST_YEAR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
