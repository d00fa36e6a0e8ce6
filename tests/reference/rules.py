"""The settings and the calendar the reference computation uses, from docs/marts.md and docs/rules.md.

No rule here is read from the dbt project. The settings' values (72 hours, 45 working days, ...) are
the dbt vars' defaults, read from dbt_project/dbt_project.yml (tests/helpers.py, dbt_var: declared
once; tests/test_dbt_vars.py checks them against the statutes), and bank holidays come from the
`holidays` package (England and Wales), not from the project's seed or macros.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import pandas as pd

from helpers import dbt_var

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Settings:
    """docs/marts.md, "Rules and settings": each var with its default (dbt_project.yml)."""

    rhi_timescale_hours: int = dbt_var("rhi_timescale_hours")
    missing_match_tolerance_hours: int = dbt_var("missing_match_tolerance_hours")
    provider_referral_match_window_hours: int = dbt_var("provider_referral_match_window_hours")
    pathway_plan_statutory_months: int = dbt_var("pathway_plan_statutory_months")
    pathway_plan_practice_window_months: int = dbt_var("pathway_plan_practice_window_months")
    pathway_plan_review_months: int = dbt_var("pathway_plan_review_months")
    contact_decision_hours: int = dbt_var("contact_decision_hours")
    re_referral_months: int = dbt_var("re_referral_months")
    assessment_working_days: int = dbt_var("assessment_working_days")
    icpc_working_days: int = dbt_var("icpc_working_days")
    cp_plan_long_years: int = dbt_var("cp_plan_long_years")
    suppression_threshold: int = dbt_var("suppression_threshold")
    scorecard_amber_tolerance: float = dbt_var("scorecard_amber_tolerance")
    # Regulation 40 of the Care Planning, Placement and Case Review (England) Regulations 2010:
    # 13 weeks looked after since the 14th birthday (docs/rules.md, "Pathway plans and care leavers").
    eligibility_days: int = dbt_var("eligible_child_looked_after_weeks") * 7


DEFAULTS = Settings()


# --- dates ----------------------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (docs/marts.md, macro add_months:
    30 November + 3 months = 28/29 February)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def nth_birthday(date_of_birth: date, years: int) -> date:
    """docs/marts.md, macro nth_birthday: a 29 February birthday falls on 28 February in a non-leap year."""
    return add_months(date_of_birth, 12 * years)


def month_start(d: date) -> date:
    return d.replace(day=1)


def extract_time(extract_date: date) -> datetime:
    """The moment the extract is "as at": the end of the extract date in London (docs/marts.md:
    an undecided contact counts once its 24 hours have passed "by the end of the extract day").
    A deadline after this moment is still open: the item is pending, not late (docs/rules.md)."""
    return datetime.combine(extract_date + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)


def london_instants(values: pd.Series) -> pd.Series:
    """`YYYY-MM-DD HH:MM` London local clock times (docs/feeds.md) as UTC instants; empty -> NaT.

    A clock time that the clock change makes nonexistent (01:30 on the last Sunday of March) or
    ambiguous (01:30 on the last Sunday of October) is read as GMT, the standard time. The feed
    docs do not say; this is PostgreSQL's documented reading of such times (appendix B.2), and the
    only one a source system that stores local clock times can mean consistently."""
    naive = pd.to_datetime(values.where(values != ""), format="%Y-%m-%d %H:%M")
    local = naive.dt.tz_localize(LONDON, ambiguous=pd.Series(False, index=naive.index).to_numpy(),
                                 nonexistent=pd.Timedelta(hours=1))
    return local.dt.tz_convert(UTC)


def local_month(instants: pd.Series) -> pd.Series:
    """The London calendar month an instant falls in, as its first day (a date), or None."""
    local = instants.dt.tz_convert(LONDON)
    return pd.Series([date(t.year, t.month, 1) if not pd.isna(t) else None for t in local], index=instants.index,
                     dtype=object)


def dates(values: pd.Series, dayfirst: bool = False) -> pd.Series:
    """Dates (`YYYY-MM-DD`, or dd/mm/yyyy for the DfE returns) as datetime.date, empty -> None."""
    fmt = "%d/%m/%Y" if dayfirst else "%Y-%m-%d"
    parsed = pd.to_datetime(values.where(values != ""), format=fmt)
    return pd.Series([t.date() if not pd.isna(t) else None for t in parsed], index=values.index, dtype=object)


# --- working days: as the DfE's CIN census validator counts them -----------------------------------

@lru_cache(maxsize=None)
def bank_holidays(first_year: int, last_year: int) -> tuple[date, ...]:
    """England and Wales bank holidays (with substitute days and the one-off holidays) from the
    maintained `holidays` package. England's list is the same as Wales's."""
    return tuple(sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))))


@lru_cache(maxsize=None)
def _business_day(first_year: int, last_year: int) -> pd.offsets.CustomBusinessDay:
    return pd.offsets.CustomBusinessDay(holidays=list(bank_holidays(first_year, last_year)))


@lru_cache(maxsize=200_000)
def working_day_deadline(start: date, working_days: int) -> date:
    """The last on-time date for "within N working days of start", as the CIN census validator
    computes it: start + (N - 1) pandas CustomBusinessDay (docs/rules.md: the start day is day one).
    An event is on time when its date is on or before this date (a Saturday after a Friday
    deadline is late)."""
    offset = _business_day(start.year - 1, start.year + 2)
    return (pd.Timestamp(start) + (working_days - 1) * offset).date()


def within_working_days(start: date, event: date, working_days: int) -> bool:
    return event <= working_day_deadline(start, working_days)


# --- a window still open is pending, not late ---------------------------------------------------------

MET, MISSED, PENDING = "MET", "MISSED", "PENDING"


def instant_status(start, event, deadline, as_at) -> str | None:
    """A real-hours timescale (72 hours, 24 hours) as at the end of the extract (docs/rules.md: a
    window still open is pending, not late). MET: the event on or before the deadline; MISSED:
    after it, before the clock started, or none and the deadline passed before the end of the
    extract; PENDING: none and the deadline at or after the end of the extract (an event at that
    very minute would still count, and the extract cannot hold it). No clock start: None."""
    if pd.isna(start):
        return None
    if not pd.isna(event):
        return MET if start <= event <= deadline else MISSED
    return MISSED if deadline < as_at else PENDING


def date_status(event: date | None, deadline: date, extract_date: date, window_start: date | None = None) -> str:
    """A timescale counted in dates (working days, months, birthdays): the deadline day is whole
    in the extract, so with no event by then the item is MISSED; after the extract date, PENDING.
    An event before `window_start` (the local practice window) is MISSED too."""
    if event is not None:
        return MET if event <= deadline and (window_start is None or event >= window_start) else MISSED
    return MISSED if deadline <= extract_date else PENDING


def counted(status: str | None) -> bool:
    """In the denominator: MET or MISSED (pending items are in neither numerator nor denominator)."""
    return status in (MET, MISSED)


def timely(status: str | None) -> bool | None:
    """The measure's flag: true when MET, false when MISSED, null while PENDING or with no clock."""
    return {MET: True, MISSED: False}.get(status)
