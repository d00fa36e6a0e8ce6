"""Synthetic nightly extracts for every feed: generated data only, never real children's data.

How the synthetic borough works (read this before changing anything)
--------------------------------------------------------------------
* **Children's journeys.** Each child known to children's social care is one
  *journey*: contacts, then perhaps a referral, an assessment, a section 47
  enquiry, a conference, a child protection plan, care, missing episodes, leaving
  care. A journey is drawn whole, into the future, from its own random stream
  seeded by (seed, borough, the day it starts, its number that day). An extract
  is then the journeys that started in the last ``history_years`` *as at* the
  extract date: anything dated after it is cut off (an open plan has no end date
  yet, an interview not yet held is not on the form).

  Because nothing about a journey depends on the extract date, tonight's extract
  and tomorrow's agree about every shared fact: an incremental feed's delta is
  exactly what changed in between, and a re-run of a night is byte-identical.

* **The workforce.** Each budgeted post has a timeline of incumbents and vacancies
  drawn from a fixed epoch (2012), so it too is the same whatever night is asked
  for. Vacancies on case-holding posts are often covered by agency workers (an
  agency assignment names the post it covers). Case allocations and visits pick
  the worker who held a post in the right service area on that date.

* **Partners.** The police notify most of the council's "missing" episodes (and few
  "away" ones) and also episodes the council never recorded, for children it knows
  and for children it does not. The commissioned provider returns an interview
  record for the episodes whose RHI it conducted (referencing the council's
  episode) and for some police-notified episodes the council never recorded.

* **Incremental feeds** (``snapshot=False``: contacts, visits) hold the rows whose
  ``updated_at`` falls after the previous delivery. The generator decides what
  "previous" means from the landing folder: the latest earlier date folder of the
  same source that holds the feed's file. If there is none, the night is the first
  delivery and holds every row (``full=True`` forces that; ``full=False`` forces a
  one-day delta).

* **Scales**: ``tiny`` (tests: a few hundred rows a feed, every feed non-empty and
  every mart measurable), ``borough`` (about the sizes in docs/rules.md), ``region``
  (33 boroughs, 10 years; written borough by borough, streamed to disk). ``boroughs=N``
  writes the first N boroughs of a scale instead (the region benchmark's 1, 3, 11 and 33):
  each borough is drawn from its own seed, so N boroughs are the first N of the 33, row for row.

* **Defects** (off by default): ``defects=`` names kinds from ``ROW_DEFECTS`` (a few
  rows of a feed are spoiled) and ``FILE_DEFECTS`` (a feed's whole file is spoiled
  and will be rejected). Pass a list of kinds (each goes to its default feed) or a
  dict kind -> feed id. ``encoding=`` and ``line_ending=`` write the files the way
  some council exports arrive (Windows-1252, BOM, CRLF): those must load.

Seeded: the same seed, scale, extract date and landing history give byte-identical files.
"""

from __future__ import annotations

import csv
import math
import os
import hashlib
import random
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from warehouse.settings import private_folder

from extract import feeds
from extract import reference_data
from extract.feeds import FEEDS, FEEDS_BY_ID, Feed
from extract.load_night import landing_folder

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"
WORKFORCE_EPOCH = date(2012, 1, 1)


@dataclass(frozen=True)
class Scale:
    boroughs: int
    history_years: int
    size: float  # 1.0 = the borough in docs/rules.md ("The borough the defaults are sized on")
    posts: int  # budgeted posts per borough
    uasc_boost: float = 1.0  # more children arriving alone: tiny needs care leavers around 16 to measure


SCALES = {
    "tiny": Scale(boroughs=1, history_years=8, size=0.025, posts=40, uasc_boost=3.0),
    "borough": Scale(boroughs=1, history_years=8, size=1.0, posts=360),
    "region": Scale(boroughs=33, history_years=10, size=1.0, posts=360),
}

# Yearly rates for one borough at size 1.0.
CONTACT_JOURNEYS_PER_YEAR = 9_000  # children with a first contact (more contacts follow)
UASC_ARRIVALS_PER_YEAR = 190  # unaccompanied asylum-seeking children taken into care
UNKNOWN_CHILD_POLICE_EPISODES_PER_YEAR = 260  # police notifications for children the council does not know


def _teams_by_area() -> dict[str, tuple[str, ...]]:
    """The council's teams by service area, from its reference data (extract/reference_data.py). The
    synthetic journeys need the default areas below; an area with no team gets one named after it."""
    found: dict[str, list[str]] = {a.code: [] for a in reference_data.service_areas()}
    for team in reference_data.teams():
        found[team.service_area].append(team.name)
    return {area: tuple(names) or (area.replace("_", " ").title(),) for area, names in found.items()}


TEAMS = _teams_by_area()
# Share of budgeted posts by service area (the synthetic borough's; an area the reference data adds gets 5 %).
DEFAULT_POST_MIX = {"FRONT_DOOR": 0.10, "ASSESSMENT": 0.16, "CHILDREN_IN_NEED": 0.18, "CHILD_PROTECTION": 0.12,
                    "LOOKED_AFTER": 0.18, "LEAVING_CARE": 0.10, "ADOLESCENTS": 0.08, "QUALITY_ASSURANCE": 0.08}
POST_MIX = {area: DEFAULT_POST_MIX.get(area, 0.05) for area in TEAMS}
ROLES = {
    "MANAGER": ("Team Manager", "Service Manager", "Head of Service"),
    "SOCIAL_WORKER": ("Social Worker", "Senior Social Worker", "Advanced Practitioner",
                      "Social Worker (£3k market supplement)"),
    "OTHER": ("Family Support Worker", "Personal Adviser", "Business Support Officer", "Conference Chair",
              "Independent Reviewing Officer"),
}
AGENCY_SUPPLIERS = ("Hays Social Care", "Sanctuary Personnel", "Liquid Personnel", "Charles Hunter Associates",
                    "Reed £ocum Partners")
VISIT_AREA = {"CP": "CHILD_PROTECTION", "CLA": "LOOKED_AFTER", "CIN": "CHILDREN_IN_NEED", "CARE_LEAVER": "LEAVING_CARE"}
PHASE_AREA = {"ASSESS": "ASSESSMENT", "CIN": "CHILDREN_IN_NEED", "CP": "CHILD_PROTECTION", "LA": "LOOKED_AFTER",
              "CL": "LEAVING_CARE"}

# Defect shapes every generated night holds (docs/marts.md; the marts must count each one right):
# a missing episode recorded twice, a conference with no section 47 enquiry (a transfer-in), a
# leaving-care category recorded wrongly, a plan dated before the child was looked after, and old
# history (journeys from LEGACY_START, before the bank-holiday seed's first years used to start).
DUPLICATE_EPISODE_SHARE = 0.02  # of council-recorded missing episodes
TRANSFER_IN_SHARE = 0.01  # of referrals with no section 47 enquiry
WRONGLY_ELIGIBLE_SHARE = 0.5  # of children in care at 16 after less than 13 weeks since 14
WRONG_CATEGORY_SHARE = 0.03  # of care leavers
WRONG_CATEGORY = {"ELIGIBLE": "RELEVANT", "RELEVANT": "ELIGIBLE", "FORMER_RELEVANT": "RELEVANT"}
PLAN_BEFORE_CARE_SHARE = 0.02  # of pathway plans
LEGACY_START = date(2009, 1, 1)
LEGACY_SHARE = 0.03  # of the usual daily journeys, from LEGACY_START to the history window

ROW_DEFECTS = {
    # kind -> (default feed id, what is spoiled)
    "bad_date": ("crs__referrals", "referral_date is not a date"),
    "unknown_code": ("crs__missing_episodes", "missing_type is not an SSDA903 code"),
    "duplicate_key": ("crs__cp_plans", "a plan's row is delivered twice"),
    "end_before_start": ("crs__looked_after_episodes", "end_date before start_date"),
}
FILE_DEFECTS = {
    "missing_column": ("crs__people", "a column is left out"),
    "unknown_column": ("crs__icpcs", "an extra column"),
    "empty_file": ("crs__pathway_plan_events", "zero bytes"),
    "truncated_file": ("crs__allocations", "the last row is cut off mid-line"),
    "wrong_delimiter": ("hr__posts", "semicolons instead of commas"),
    "undecodable_bytes": ("agency__assignments", "bytes that are neither UTF-8 nor Windows-1252"),
}
DEFECT_KINDS = (*ROW_DEFECTS, *FILE_DEFECTS)


@dataclass(frozen=True)
class GeneratedNight:
    extract_date: date
    folder: Path  # the case recording system's folder (kept for callers of the first version)
    files: dict[str, Path]  # feed id -> file
    rows: dict[str, int]
    full: dict[str, bool] = field(default_factory=dict)  # incremental feed id -> True if a full extract
    defects: dict[str, str] = field(default_factory=dict)  # defect kind -> feed id


# --- small helpers ----------------------------------------------------------------------------


def _dt(moment: datetime | None) -> str:
    return moment.strftime(TIMESTAMP_FORMAT) if moment else ""


def _d(day: date | None) -> str:
    return day.isoformat() if day else ""


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"


def _as_date(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _lognormal_days(rng: random.Random, median: float, sigma: float, minimum: int = 1) -> int:
    return max(minimum, int(rng.lognormvariate(math.log(median), sigma)))


def _birthday(dob: date, years: int) -> date:
    """The n-th birthday as the warehouse counts it (dbt macro nth_birthday): 29 February gives
    28 February in a non-leap year."""
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:  # 29 February
        return date(dob.year + years, 2, 28)


# Leaving care: an eligible child has been looked after for periods totalling at least 13 weeks
# that began after 14 and ended after 16 (CPPCR Regulations 2010 reg 40; docs/marts.md).
ELIGIBLE_DAYS = 13 * 7


def eligibility_date(dob: date, la_periods: Iterable[tuple[date, date | None]]) -> date | None:
    """The first day, on or after the 16th birthday and before the 18th, on which a child is
    looked after with 13 weeks looked after since the 14th birthday; None if there is none.
    ``la_periods``: (start, end) with the end day not looked after (SSDA903), None = open.
    The same rule as the warehouse's int_leaving_care__categories, so a generated night's
    recorded categories agree with the derived ones (apart from the seeded wrong ones)."""
    fourteen, sixteen, eighteen = (_birthday(dob, a) for a in (14, 16, 18))
    counted = 0
    for start, end in sorted(la_periods, key=lambda p: p[0]):
        counted_from, counted_to = max(start, fourteen), min(end or eighteen, eighteen)
        if counted_to <= counted_from:
            continue
        candidate = max(counted_from + timedelta(days=max(ELIGIBLE_DAYS - counted, 1) - 1), sixteen)
        if counted + (counted_to - counted_from).days >= ELIGIBLE_DAYS and candidate < counted_to:
            return candidate
        counted += (counted_to - counted_from).days
    return None


def _office_time(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(8, 0)) + timedelta(minutes=rng.randrange(10 * 60))


def month_ends(extract_date: date, count: int = 12) -> list[date]:
    """The last ``count`` month-ends on or before the extract date, oldest first."""
    first_of_month = extract_date.replace(day=1)
    last = extract_date if (extract_date + timedelta(days=1)).day == 1 else first_of_month - timedelta(days=1)
    ends = [last]
    while len(ends) < count:
        ends.append(ends[-1].replace(day=1) - timedelta(days=1))
    return ends[::-1]


# --- the workforce ----------------------------------------------------------------------------


@dataclass
class Occupancy:
    start: date
    end: date | None  # last day, inclusive; None = open-ended
    worker_id: str
    agency: bool
    fte: float
    asye: bool = False
    leaving_reason: str = ""
    assignment_id: str = ""
    supplier: str = ""


@dataclass
class Post:
    post_id: str
    service_area: str
    team: str
    role_group: str
    role: str
    budgeted_fte: float
    case_holding: bool
    occupancies: list[Occupancy] = field(default_factory=list)
    _starts: list[date] = field(default_factory=list)

    def occupant(self, day: date) -> Occupancy | None:
        i = bisect_right(self._starts, day) - 1
        if i < 0:
            return None
        occ = self.occupancies[i]
        return occ if occ.end is None or day <= occ.end else None


class Workforce:
    """Posts, employees and agency cover for one borough, drawn from a fixed epoch."""

    HORIZON = date(2045, 1, 1)

    def __init__(self, seed: int, borough: str, posts: int) -> None:
        rng = random.Random(f"{seed}:{borough}:workforce")
        self.prefix = borough
        self.posts: list[Post] = []
        self.extra_employees: list[Occupancy] = []  # over establishment: no post
        self.extra_assignments: list[tuple[str, str, str, Occupancy]] = []  # area, team, role group, occupancy
        areas = list(POST_MIX)
        employee_n = agency_n = 0
        for n in range(posts):
            area = rng.choices(areas, [POST_MIX[a] for a in areas])[0]
            if area == "QUALITY_ASSURANCE":
                group = rng.choices(("MANAGER", "OTHER"), (0.3, 0.7))[0]
            else:
                group = rng.choices(("MANAGER", "SOCIAL_WORKER", "OTHER"), (0.15, 0.62, 0.23))[0]
            role = rng.choice(ROLES[group])
            post = Post(
                post_id=f"{borough}POST{n + 1:04d}", service_area=area, team=rng.choice(TEAMS[area]),
                role_group=group, role=role, budgeted_fte=rng.choices((1.0, 0.8, 0.6, 0.5), (0.85, 0.07, 0.05, 0.03))[0],
                case_holding=group == "SOCIAL_WORKER" or role == "Personal Adviser",
            )
            # Alternate incumbents and vacancies from the epoch to the horizon.
            day = WORKFORCE_EPOCH - timedelta(days=rng.randrange(0, 900))
            hard_to_fill = rng.random() < 0.25
            while day < self.HORIZON:
                employee_n += 1
                tenure = _lognormal_days(rng, 900, 0.8, 60)
                asye = group == "SOCIAL_WORKER" and rng.random() < 0.15
                reason = rng.choices(feeds.LEAVING_REASONS, (0.62, 0.1, 0.04, 0.12, 0.04, 0.08))[0]
                fte = min(post.budgeted_fte, rng.choices((1.0, 0.8, 0.6), (0.85, 0.1, 0.05))[0])
                post.occupancies.append(Occupancy(day, day + timedelta(days=tenure - 1), f"{borough}E{employee_n:05d}",
                                                  False, fte, asye, reason))
                day += timedelta(days=tenure)
                vacancy = _lognormal_days(rng, 200 if hard_to_fill else 60, 0.9, 7)
                if post.case_holding and vacancy > 21 and rng.random() < 0.75:
                    # Agency cover for most of the vacancy, from a week or two in.
                    agency_n += 1
                    cover_start = day + timedelta(days=rng.randint(7, 21))
                    cover_end = day + timedelta(days=vacancy - 1)
                    post.occupancies.append(Occupancy(
                        cover_start, cover_end, f"{borough}AG{agency_n:05d}", True, 1.0,
                        assignment_id=f"{borough}ASG{agency_n:06d}", supplier=rng.choice(AGENCY_SUPPLIERS)))
                day += timedelta(days=vacancy)
            post._starts = [o.start for o in post.occupancies]
            self.posts.append(post)
        # A few supernumerary employees (over establishment) and agency workers not covering a post.
        for n in range(max(1, posts // 60)):
            employee_n += 1
            start = WORKFORCE_EPOCH + timedelta(days=rng.randrange(0, 12 * 365))
            self.extra_employees.append(Occupancy(start, start + timedelta(days=_lognormal_days(rng, 500, 0.6)),
                                                  f"{borough}E{employee_n:05d}", False, 1.0,
                                                  leaving_reason="END_OF_CONTRACT"))
        for n in range(max(1, posts // 40)):
            agency_n += 1
            area = rng.choice(("ASSESSMENT", "CHILDREN_IN_NEED", "CHILD_PROTECTION"))
            start = WORKFORCE_EPOCH + timedelta(days=rng.randrange(0, 14 * 365))
            self.extra_assignments.append((area, rng.choice(TEAMS[area]), "SOCIAL_WORKER", Occupancy(
                start, start + timedelta(days=_lognormal_days(rng, 150, 0.6)), f"{borough}AG{agency_n:05d}", True,
                1.0, assignment_id=f"{borough}ASG{agency_n:06d}", supplier=rng.choice(AGENCY_SUPPLIERS))))
        self.case_posts = {a: [p for p in self.posts if p.case_holding and p.service_area == a] for a in POST_MIX}

    def worker_on(self, rng: random.Random, area: str, day: date) -> tuple[str, str]:
        """(worker id, team) of someone holding a case-holding post in the area on that day."""
        candidates = self.case_posts.get(area) or self.case_posts["CHILDREN_IN_NEED"]
        for _ in range(8):
            post = rng.choice(candidates)
            occ = post.occupant(day)
            if occ is not None:
                return occ.worker_id, post.team
        post = candidates[0]
        return (post.occupancies[0].worker_id if post.occupancies else f"{self.prefix}UNALLOCATED"), post.team


# --- one child's journey ----------------------------------------------------------------------


class Journey:
    """Everything that happens to one child, drawn whole; ``emit`` writes what is known by a date."""

    def __init__(self, rng: random.Random, person_id: str, start: date, kind: str, workforce: Workforce,
                 ids: str) -> None:
        self.rng = rng
        # The seeded defect shapes (a record twice, a conference with no enquiry, a wrong category, a
        # plan before care) draw from their own stream, so the journey itself is as without them.
        self.shapes = random.Random(f"{person_id}:shapes")
        self.person_id = person_id
        self.ids = ids  # prefix of this journey's record ids
        self.workforce = workforce
        self.kind = kind  # "contact" or "uasc"
        self.rows: dict[str, list[tuple[dict, date]]] = {}  # feed id -> (row, the date it is known from)
        self.uasc = kind == "uasc"
        # The child.
        if self.uasc:
            age_days = rng.randint(14 * 365, 17 * 365 + 300)
        else:
            age_days = rng.choices(
                (rng.randint(-200, -30), rng.randint(0, 5 * 365), rng.randint(5 * 365, 11 * 365),
                 rng.randint(11 * 365, 17 * 365 + 300)), (0.05, 0.3, 0.3, 0.35))[0]
        self.unborn = age_days < 0
        self.dob = start - timedelta(days=age_days)
        self.gender = rng.choices(feeds.GENDERS, (0.5, 0.47, 0.02, 0.01))[0]
        if self.uasc:
            self.gender = rng.choices(("1", "2"), (0.9, 0.1))[0]
            self.ethnicity = rng.choice(("AOTH", "BAFR", "OOTH", "BOTH", "MOTH"))
        else:
            self.ethnicity = rng.choices(feeds.ETHNICITIES, [30, 2, 0.2, 10, 0.5, 3, 2, 2, 3, 4, 3, 2, 4, 8, 10, 3, 1, 4,
                                                         1, 3])[0]
        self.nhs = "".join(str(rng.randrange(10)) for _ in range(10)) if rng.random() < 0.9 else ""
        self.postcode = f"CR{rng.randint(0, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                        f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        self.n = 0
        self.la_periods: list[tuple[date, date | None]] = []
        self.open_periods: list[tuple[date, date]] = []  # when the case was open, for visits and missing
        self.missing: list[dict] = []
        self.contacts: list[tuple] = []
        self.allocations: list[tuple] = []
        self.current_workers: list[tuple] = []
        self.visit_rows: list[tuple] = []
        self.trackers: list[tuple] = []
        self.care_leaver: dict | None = None
        self.draw(start)

    # ids and rows
    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{self.ids}{prefix}{self.n:02d}"

    def add(self, feed: Feed, row: dict, known_from: date) -> None:
        self.rows.setdefault(feed.id, []).append((row, known_from))

    # the story
    def draw(self, start: date) -> None:
        rng = self.rng
        day = start
        cycles = 0
        adult = _birthday(self.dob, 18)
        while cycles < 4 and day < adult - timedelta(days=60):
            cycles += 1
            referred, closed = self.front_door(day)
            if not referred:
                if rng.random() < 0.25:  # another contact some months later
                    day = closed + timedelta(days=_lognormal_days(rng, 200, 0.8))
                    continue
                break
            closed = self.social_care(referred)
            if closed is None or rng.random() > 0.22:  # re-referral
                break
            day = closed + timedelta(days=_lognormal_days(rng, 250, 0.7, 14))

    def front_door(self, day: date) -> tuple[datetime | None, date]:
        """One contact. Returns (referral time, or None; the day the contact was dealt with)."""
        rng = self.rng
        contact_at = _office_time(rng, day) if rng.random() < 0.85 else \
            datetime.combine(day, time(0, 0)) + timedelta(minutes=rng.randrange(24 * 60))
        source = "6" if self.uasc else rng.choices(
            feeds.REFERRAL_SOURCES, (2, 3, 1, 1, 14, 4, 3, 4, 5, 1, 2, 2, 1, 22, 1, 1, 1, 8, 2, 1, 6, 1))[0]
        decision = "REFERRAL" if self.uasc else rng.choices(feeds.CONTACT_DECISIONS, (0.34, 0.2, 0.26, 0.2))[0]
        hours = rng.lognormvariate(math.log(6), 1.1)
        if self.uasc:
            hours = rng.uniform(1, 5)
        decision_at = contact_at + timedelta(minutes=int(hours * 60))
        contact_id = self._id("C")
        self.contacts.append((contact_id, contact_at, source, decision_at, decision))
        if decision != "REFERRAL":
            return None, decision_at.date()
        return decision_at, decision_at.date()

    def social_care(self, referral_at: datetime) -> date | None:
        """Referral, assessment, and whatever follows. Returns the day the case closed (None if it never does)."""
        rng = self.rng
        ref_day = referral_at.date()
        referral_id = self._id("R")
        contact_id = self.contacts[-1][0]
        nfa = (not self.uasc) and rng.random() < 0.18
        self.add(feeds.CRS_REFERRALS, {
            "referral_id": referral_id, "person_id": self.person_id, "contact_id": contact_id,
            "referral_date": _d(ref_day), "referral_source": self.contacts[-1][2], "referral_nfa": _yn(nfa),
            "team": rng.choice(TEAMS["FRONT_DOOR"]),
        }, ref_day)
        if nfa:
            self.cin_episode(referral_id, ref_day, ref_day + timedelta(days=rng.randint(0, 3)), "RC8")
            return ref_day
        # Assessment: started within days, authorised in about 30 working days (some late).
        assess_start = ref_day + timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5)))
        assess_end = assess_start + timedelta(days=_lognormal_days(rng, 38, 0.45, 2))
        allocated_team = self.allocate("ASSESS", assess_start, assess_end)
        self.add(feeds.CRS_ASSESSMENTS, {
            "assessment_id": self._id("A"), "person_id": self.person_id, "referral_id": referral_id,
            "start_date": _d(assess_start), "authorised_date": assess_end, "is_pre_birth": _yn(self.unborn),
            "team": allocated_team,
        }, assess_start)
        if self.unborn and rng.random() < 0.7:
            self.tracker("UNBORN", assess_start, assess_end + timedelta(days=rng.randint(10, 120)))
        case_end = assess_end
        # Section 47 enquiry for about 30% of referrals (children arriving alone go straight into care).
        if not self.uasc and rng.random() < 0.34:
            case_end = max(case_end, self.child_protection(referral_id, ref_day, repeat=False))
        elif not self.uasc and self.shapes.random() < TRANSFER_IN_SHARE:
            case_end = max(case_end, self.transfer_in_conference(ref_day))
        # Care: unaccompanied children at once; others sometimes.
        if self.uasc or rng.random() < 0.045:
            la_start = ref_day + timedelta(days=rng.randint(0, 3)) if self.uasc else \
                assess_start + timedelta(days=_lognormal_days(rng, 60, 1.0))
            if not self.uasc and rng.random() < 0.6:
                self.tracker("EDGE_OF_CARE", la_start - timedelta(days=rng.randint(20, 120)), la_start)
            case_end = max(case_end, self.looked_after(la_start))
        elif rng.random() < 0.42:
            # Children in need support after the assessment.
            cin_end = assess_end + timedelta(days=_lognormal_days(rng, 180, 0.7, 20))
            self.allocate("CIN", assess_end, cin_end)
            self.visits("CIN", assess_end, cin_end, 20)
            case_end = max(case_end, cin_end)
        if self.is_adolescent(ref_day):
            self.missing_episodes(ref_day, case_end)
        horizon = _birthday(self.dob, 18) if not self.unborn else self.dob + timedelta(days=18 * 365)
        reason = "RC8" if case_end == assess_end else rng.choices(feeds.CIN_CLOSURE_REASONS,
                                                                 (5, 10, 10, 10, 2, 5, 8, 30, 20))[0]
        if self.la_periods and self.la_periods[-1][1] is None:
            case_end_final = None
        else:
            case_end_final = max(ref_day, min(case_end, horizon))
        self.cin_episode(referral_id, ref_day, case_end_final, reason)
        self.open_periods.append((ref_day, case_end_final or horizon))
        return case_end_final

    def is_adolescent(self, day: date) -> bool:
        return (day - self.dob).days >= 11 * 365

    def cin_episode(self, referral_id: str, start: date, end: date | None, reason: str) -> None:
        self.add(feeds.CRS_CIN_EPISODES, {
            "cin_episode_id": self._id("CIN"), "person_id": self.person_id, "referral_id": referral_id,
            "start_date": _d(start), "end_date": end, "closure_reason": (reason, end) if end else "",
            "primary_need": "N1" if self.uasc else self.rng.choices(feeds.PRIMARY_NEEDS, (55, 4, 3, 18, 2, 5, 1, 2, 6, 4))[0],
        }, start)

    def child_protection(self, referral_id: str, day: date, repeat: bool) -> date:
        rng = self.rng
        strategy = day + timedelta(days=rng.choice((0, 1, 1, 2, 3, 5, 8)))
        s47_id = self._id("S")
        icpc_needed = rng.random() < (0.5 if repeat else 0.37)
        outcome = strategy + timedelta(days=rng.randint(3, 14))
        self.add(feeds.CRS_S47_ENQUIRIES, {
            "s47_id": s47_id, "person_id": self.person_id, "referral_id": referral_id,
            "strategy_discussion_date": _d(strategy), "icpc_required": ("Y" if icpc_needed else "N", outcome),
            "outcome_date": outcome,
        }, strategy)
        if not icpc_needed:
            return outcome
        # Conference in about 15 working days (21 calendar days), some late; some over bank holidays.
        icpc = strategy + timedelta(days=_lognormal_days(rng, 19, 0.35, 5))
        self.tracker("S47_TO_ICPC", strategy, icpc)
        icpc_id = self._id("I")
        plan = rng.random() < 0.9
        self.add(feeds.CRS_ICPCS, {"icpc_id": icpc_id, "person_id": self.person_id, "s47_id": s47_id,
                               "icpc_date": _d(icpc), "cp_plan_required": _yn(plan)}, icpc)
        if not plan:
            return icpc
        duration = _lognormal_days(rng, 280, 0.6, 40)
        end = icpc + timedelta(days=duration)
        self.add(feeds.CRS_CP_PLANS, {
            "cp_plan_id": self._id("CPP"), "person_id": self.person_id, "icpc_id": icpc_id,
            "start_date": _d(icpc), "end_date": end,
            "initial_category": rng.choices(feeds.CP_CATEGORIES, (48, 7, 4, 35, 6))[0],
        }, icpc)
        self.allocate("CP", icpc, end)
        self.visits("CP", icpc, end, 10)
        if duration > 450 and rng.random() < 0.5:
            self.tracker("ESCALATION", icpc + timedelta(days=450), icpc + timedelta(days=rng.randint(470, 700)),
                         raised_by="CP_CHAIR")
        if not repeat and rng.random() < 0.18:
            # A second plan for the same child within two years or so: a repeat plan.
            again = end + timedelta(days=_lognormal_days(rng, 300, 0.6, 30))
            end = max(end, self.child_protection(referral_id, again, repeat=True))
        return end

    def transfer_in_conference(self, day: date) -> date:
        """A child already on a plan in another council moves here: a transfer-in conference with
        no section 47 enquiry of this council (a shape the marts must count: docs/marts.md)."""
        shapes = self.shapes
        icpc = day + timedelta(days=shapes.randint(3, 20))
        icpc_id = self._id("I")
        self.add(feeds.CRS_ICPCS, {"icpc_id": icpc_id, "person_id": self.person_id, "s47_id": "",
                               "icpc_date": _d(icpc), "cp_plan_required": "Y"}, icpc)
        end = icpc + timedelta(days=_lognormal_days(shapes, 250, 0.6, 40))
        self.add(feeds.CRS_CP_PLANS, {
            "cp_plan_id": self._id("CPP"), "person_id": self.person_id, "icpc_id": icpc_id,
            "start_date": _d(icpc), "end_date": end,
            "initial_category": shapes.choices(feeds.CP_CATEGORIES, (48, 7, 4, 35, 6))[0],
        }, icpc)
        return end

    def looked_after(self, start: date) -> date:
        """Looked-after episodes from start; returns the day care ended (capped at 18)."""
        rng = self.rng
        eighteen = _birthday(self.dob, 18)
        if self.uasc:
            end = eighteen if rng.random() < 0.85 else start + timedelta(days=_lognormal_days(rng, 300, 0.6))
        else:
            end = start + timedelta(days=_lognormal_days(rng, 750, 1.0, 10))
        end = min(end, eighteen)
        if end <= start:
            end = start + timedelta(days=30)
        self.la_periods.append((start, end))
        legal = "V2" if self.uasc else rng.choices(("V2", "C2", "C1", "J2", "E1", "L2"), (30, 35, 20, 5, 5, 5))[0]
        day = start
        rne = "S"
        while day < end:
            length = _lognormal_days(rng, 320, 0.9, 7)
            ep_end = min(end, day + timedelta(days=length))
            final = ep_end >= end
            if self.uasc:
                place = "P2" if (day - self.dob).days > 16 * 365 else rng.choice(("U1", "U3", "K2"))
            else:
                place = rng.choices(("U1", "U3", "U4", "U6", "K2", "P1", "R1", "H5", "S1", "A4"),
                                    (25, 15, 8, 6, 14, 8, 4, 5, 3, 2))[0]
            if final:
                age = (ep_end - self.dob).days / 365.25
                rec = "E41" if age >= 17.9 else rng.choices(("E13", "E11", "E12", "E41", "E4A", "E8"),
                                                            (50, 6, 8, 10, 10, 16))[0]
            else:
                rec = rng.choice(("X1", "E8")) if rng.random() < 0.1 else "X1"
                if legal == "V2" and rng.random() < 0.3 and not self.uasc:
                    legal = "C2"
                    rne = "L"
            self.add(feeds.CRS_LOOKED_AFTER_EPISODES, {
                "la_episode_id": self._id("LA"), "person_id": self.person_id, "start_date": _d(day),
                "end_date": ep_end, "reason_new_episode": rne, "legal_status": legal, "placement_type": place,
                "reason_episode_ceased": (rec, ep_end),
                "placement_postcode": f"{rng.choice(('CR', 'SE', 'BR', 'SM', 'KT', 'ME'))}{rng.randint(1, 9)} "
                                      f"{rng.randint(1, 9)}AB",
            }, day)
            if final and rec == "E13" and legal == "V2":
                self.tracker("RETURN_HOME_S20", ep_end - timedelta(days=rng.randint(30, 90)), ep_end)
            rne = rng.choices(("P", "T", "B"), (80, 10, 10))[0]
            day = ep_end
        self.allocate("LA", start, end)
        self.visits("CLA", start, end, 42)
        if rng.random() < 0.08:
            self.tracker("ESCALATION", start + timedelta(days=60), start + timedelta(days=rng.randint(90, 200)),
                         raised_by="IRO")
        self.leaving_care(start, end)
        return end

    def leaving_care(self, la_start: date, la_end: date) -> None:
        """Eligible by the statute (reg 40: 13 weeks looked after since 14, looked after at or after 16),
        counted over every period of care so far (eligibility_date)."""
        rng = self.rng
        fourteen, sixteen, eighteen = (_birthday(self.dob, a) for a in (14, 16, 18))
        since_fourteen = max(la_start, fourteen)
        eligible_from = eligibility_date(self.dob, self.la_periods)
        recorded_only = False
        if eligible_from is None:
            # Seeded shape: a child looked after only a few weeks after 14 and still in care at 16,
            # whom the case recording system records as eligible all the same (not eligible by
            # the statute: a category mismatch, and no pathway plan duty).
            if la_end <= sixteen or la_start >= eighteen or self.shapes.random() >= WRONGLY_ELIGIBLE_SHARE:
                return
            eligible_from, recorded_only = max(sixteen, la_start), True
        in_education = rng.random() < 0.12
        duties_end = _birthday(self.dob, 25 if in_education else 21)
        adviser, _ = self.workforce.worker_on(rng, "LEAVING_CARE", max(eligible_from, la_end))
        no_adviser = rng.random() < 0.08
        self.care_leaver = {
            "person_id": self.person_id, "eligibility_date": _d(eligible_from),
            "personal_adviser_id": "" if no_adviser else adviser,
            "in_touch": rng.choices(feeds.IN_TOUCH, (80, 10, 0.2, 3, 2, 2))[0],
            "activity": rng.choices(feeds.ACTIVITIES, (20, 6, 10, 8, 3, 2, 2, 1, 25, 6, 7, 10, 0, 0, 0))[0],
            # Codes of feeds.ACCOMMODATION only (no S1 or X1: homeless and in custody are never suitable).
            "accommodation": rng.choices(("B1", "C1", "D1", "E1", "G1", "H1", "K1", "R1", "Z1", "T1", "U1", "V1",
                                          "B2", "H2", "R2", "S2", "T2"), (5, 10, 5, 8, 6, 3, 6, 12, 20, 5, 4, 3, 1, 1, 2,
                                                                          2, 1))[0],
            "in_education": _yn(in_education),
            "_eligible_from": eligible_from, "_eighteen": eighteen, "_duties_end": duties_end,
            # Seeded shape: a category recorded wrongly (e.g. ELIGIBLE after the child left care).
            "_wrong_category": not recorded_only and self.shapes.random() < WRONG_CATEGORY_SHARE,
        }
        if recorded_only:
            return
        # Needs assessment due within three months of eligibility. Some on time, some before 16 (the local
        # standard), and some only just before 18: what the inspection found.
        practice = rng.choices(("early", "on_time", "late", "at_18"), (0.25, 0.35, 0.2, 0.2))[0]
        if practice == "early":
            assessed = sixteen - timedelta(days=rng.randint(5, 85))
        elif practice == "on_time":
            assessed = eligible_from + timedelta(days=rng.randint(0, 85))
        elif practice == "late":
            assessed = eligible_from + timedelta(days=rng.randint(95, 300))
        else:
            assessed = eighteen - timedelta(days=rng.randint(5, 60))
        assessed = max(assessed, since_fourteen + timedelta(days=30))
        plan = assessed + timedelta(days=rng.randint(0, 25))
        if self.shapes.random() < PLAN_BEFORE_CARE_SHARE:
            # Seeded shape: a plan dated before the child was ever looked after (a data problem).
            first_care = min(s for s, _ in self.la_periods)
            assessed = plan = first_care - timedelta(days=self.shapes.randint(10, 60))
        for kind, when in (("NEEDS_ASSESSMENT", assessed), ("PATHWAY_PLAN", plan)):
            self.add(feeds.CRS_PATHWAY_PLAN_EVENTS, {"event_id": self._id("PW"), "person_id": self.person_id,
                                                 "event_type": kind, "event_date": _d(when)}, when)
        review = plan
        while True:
            review = review + timedelta(days=_lognormal_days(rng, 165, 0.25, 60))
            if review >= duties_end:
                break
            self.add(feeds.CRS_PATHWAY_PLAN_EVENTS, {"event_id": self._id("PW"), "person_id": self.person_id,
                                                 "event_type": "PATHWAY_PLAN_REVIEW", "event_date": _d(review)}, review)
        after_care = max(la_end, eligible_from)
        if after_care < duties_end:
            self.allocate("CL", after_care, duties_end)
            self.visits("CARE_LEAVER", after_care, duties_end, 56)

    def missing_episodes(self, start: date, end: date) -> None:
        rng = self.rng
        looked_after = bool(self.la_periods)
        rate = rng.paretovariate(1.6) * (1.6 if looked_after else 0.4)  # episodes a year; a few go missing often
        if rng.random() < 0.55:
            return
        moment = datetime.combine(start, time(0, 0)) + timedelta(minutes=rng.randrange(60 * 24 * 30))
        finish = datetime.combine(min(end, _birthday(self.dob, 18)), time(23, 59))
        count = 0
        while True:
            moment += timedelta(minutes=int(rng.expovariate(rate / (365 * 24 * 60))) + 60)
            if moment > finish or count > 60:
                break
            count += 1
            duration = timedelta(minutes=max(30, int(rng.lognormvariate(math.log(18 * 60), 1.0))))
            back = moment + duration
            in_care = any(s <= moment.date() <= (e or date.max) for s, e in self.la_periods)
            episode = {"episode_id": self._id("ME"), "start": moment, "end": back, "looked_after": in_care,
                       "type": "A" if in_care and rng.random() < 0.3 else "M"}
            self.missing.append(episode)
            moment = back
        if count >= 3 and rng.random() < 0.6:
            first = self.missing[-count]["start"].date()
            self.tracker("MISSING", first, first + timedelta(days=rng.randint(60, 300)))
            if rng.random() < 0.4:
                self.tracker("MASE", first + timedelta(days=14), first + timedelta(days=rng.randint(90, 360)))

    def allocate(self, phase: str, start: date, end: date) -> str:
        """Allocations to workers in the phase's service area; workers change every so often."""
        rng = self.rng
        area = PHASE_AREA[phase]
        day, first_team = start, ""
        while day <= end:
            worker, team = self.workforce.worker_on(rng, area, day)
            first_team = first_team or team
            until = day + timedelta(days=_lognormal_days(rng, 220, 0.8, 14))
            last = min(until, end)
            self.allocations.append((self._id("AL"), worker, team, day, last))
            self.current_workers.append((day, last, worker))
            day = last + timedelta(days=1)
        return first_team

    def visits(self, kind: str, start: date, end: date, every_days: int) -> None:
        rng = self.rng
        day = start + timedelta(days=rng.randint(1, 7))
        while day <= end:
            worker = next((w for s, e, w in reversed(self.current_workers) if s <= day <= e), None)
            if worker is None:
                worker, _ = self.workforce.worker_on(rng, VISIT_AREA[kind], day)
            recorded = datetime.combine(day, time(9, 0)) + timedelta(hours=rng.lognormvariate(math.log(30), 1.0))
            self.visit_rows.append((self._id("V"), worker, day, kind, rng.random() < 0.7, recorded))
            day += timedelta(days=max(1, int(rng.gauss(every_days, every_days * 0.3))))

    def tracker(self, tracker: str, start: date, end: date, raised_by: str = "") -> None:
        self.trackers.append((self._id("T"), tracker, start, end, raised_by, self.rng.random() < 0.7))



# --- writing files ----------------------------------------------------------------------------


class FeedWriter:
    """Streams one feed's rows to its file (written to a .partial file, renamed when closed)."""

    def __init__(self, path: Path, feed: Feed, encoding: str, line_ending: str) -> None:
        private_folder(path.parent)  # children's data: folders 0700, files 0600, from the start
        self.path, self.feed = path, feed
        self.tmp = path.with_name(path.name + ".partial")
        self.fh = open(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="",
                       encoding=encoding)
        self.writer = csv.writer(self.fh, lineterminator=line_ending)
        self.writer.writerow(feed.column_names)
        self.rows = 0

    def write(self, row: dict) -> None:
        self.writer.writerow([row.get(c, "") for c in self.feed.column_names])
        self.rows += 1

    def close(self) -> None:
        self.fh.close()
        self.tmp.replace(self.path)  # a reader never sees a half-written file


def _previous_delivery(landing_dir: Path, feed: Feed, extract_date: date) -> date | None:
    source_dir = Path(landing_dir) / feed.source
    if not source_dir.is_dir():
        return None
    earlier = []
    for folder in source_dir.iterdir():
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < extract_date and (folder / feed.file_name).exists():
            earlier.append(day)
    return max(earlier) if earlier else None


def _normalise_defects(defects) -> dict[str, str]:
    if not defects:
        return {}
    if isinstance(defects, str):
        defects = [defects]
    if isinstance(defects, Mapping):
        chosen = dict(defects)
    else:
        kinds = list(defects)
        if kinds == ["all"]:
            kinds = list(DEFECT_KINDS)
        chosen = {k: (ROW_DEFECTS.get(k) or FILE_DEFECTS.get(k) or ("",))[0] for k in kinds}
    for kind, feed_id in chosen.items():
        if kind not in DEFECT_KINDS:
            raise ValueError(f"unknown defect {kind!r}; choose from {', '.join(DEFECT_KINDS)}")
        if feed_id not in FEEDS_BY_ID:
            raise ValueError(f"defect {kind}: unknown feed {feed_id!r}")
    return chosen


def generate_night(landing_dir: Path, extract_date: date, *, scale: str = "borough", seed: int = 20261123,
                   boroughs: int | None = None, full: bool | None = None, defects: Iterable[str] | Mapping[str, str] | None = None,
                   encoding: str = "utf-8", line_ending: str = "\n",
                   feeds: Iterable[Feed] = FEEDS) -> GeneratedNight:
    """Write one night's files for every feed to <landing>/<source>/<extract date>/<file name>."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    cfg = SCALES[scale]
    if boroughs is not None and boroughs < 1:
        raise ValueError(f"boroughs must be at least 1, not {boroughs}")
    landing_dir = Path(landing_dir)
    chosen_defects = _normalise_defects(defects)
    feeds = tuple(feeds)

    # For incremental feeds: which rows this delivery holds (those updated after `since`).
    since: dict[str, date | None] = {}
    for feed in feeds:
        if not feed.snapshot:
            if full is True:
                since[feed.id] = None
            elif full is False:
                since[feed.id] = extract_date - timedelta(days=1)
            else:
                since[feed.id] = _previous_delivery(landing_dir, feed, extract_date)

    writers = {f.id: FeedWriter(landing_folder(landing_dir, f.source, extract_date) / f.file_name, f, encoding,
                                line_ending) for f in feeds}
    try:
        sink = _Sink(writers, extract_date, since)
        # A multi-borough scale names every borough's ids (B01...), also when fewer are asked for.
        for b in range(cfg.boroughs if boroughs is None else boroughs):
            prefix = "" if cfg.boroughs == 1 else f"B{b + 1:02d}"
            _generate_borough(sink, prefix, extract_date, cfg, seed)
        for kind, feed_id in chosen_defects.items():
            if kind in ROW_DEFECTS and feed_id in writers:
                _row_defect(writers[feed_id], kind, sink.last_rows.get(feed_id))
    finally:
        for w in writers.values():
            w.close()
    for kind, feed_id in chosen_defects.items():
        if kind in FILE_DEFECTS and feed_id in writers:
            _file_defect(writers[feed_id].path, kind, encoding)
    return GeneratedNight(
        extract_date=extract_date,
        folder=landing_folder(landing_dir, "crs", extract_date),
        files={fid: w.path for fid, w in writers.items()},
        rows={fid: w.rows for fid, w in writers.items()},
        full={fid: s is None for fid, s in since.items()},
        defects=chosen_defects,
    )


class _Sink:
    """Routes rows to writers, cutting each row to what is known on the extract date."""

    def __init__(self, writers: dict[str, FeedWriter], extract_date: date, since: dict[str, date | None]):
        self.writers, self.extract_date, self.since = writers, extract_date, since
        self.last_rows: dict[str, dict] = {}

    def put(self, feed: Feed, row: dict, updated: date | None = None) -> None:
        writer = self.writers.get(feed.id)
        if writer is None:
            return
        if not feed.snapshot:
            since = self.since.get(feed.id)
            if since is not None and updated is not None and updated <= since:
                return
        writer.write(row)
        self.last_rows[feed.id] = row


def _known(value, extract_date: date) -> str:
    """A future-dated value (date, datetime, or (value, the date it becomes known)) is not known yet: empty."""
    if isinstance(value, tuple):
        text, when = value
        return text if _as_date(when) <= extract_date else ""
    if isinstance(value, datetime):
        return _dt(value) if value.date() <= extract_date else ""
    if isinstance(value, date):
        return _d(value) if value <= extract_date else ""
    return value


def _generate_borough(sink: _Sink, prefix: str, extract_date: date, cfg: Scale, seed: int) -> None:
    end_of_night = datetime.combine(extract_date, time(23, 59))
    workforce = Workforce(seed, prefix or "B00", cfg.posts)
    window_start = extract_date - timedelta(days=round(365.25 * cfg.history_years))
    per_day = CONTACT_JOURNEYS_PER_YEAR * cfg.size / 365
    uasc_per_day = UASC_ARRIVALS_PER_YEAR * cfg.size * cfg.uasc_boost / 365

    # Old history: a few journeys a day from LEGACY_START to the window (councils load history from
    # 2009 and earlier), each drawn whole as any other, with ids of their own.
    day = LEGACY_START
    while day < window_start:
        day_rng = random.Random(f"{seed}:{prefix}:legacy:{day.isoformat()}")
        for i in range(_poisson(day_rng, per_day * LEGACY_SHARE)):
            rng = random.Random(f"{seed}:{prefix}:legacy:{day.isoformat()}:{i}")
            j = Journey(rng, f"{prefix}PL{day:%y%m%d}{i:03d}", day, "contact", workforce, f"{prefix}L{day:%y%m%d}{i:03d}")
            _emit_journey(sink, j, extract_date, end_of_night)
        day += timedelta(days=1)

    day = window_start
    while day <= extract_date:
        day_rng = random.Random(f"{seed}:{prefix}:{day.isoformat()}")
        weekday_factor = 1.25 if day.weekday() < 5 else 0.4
        kinds = ["contact"] * _poisson(day_rng, per_day * weekday_factor) + ["uasc"] * _poisson(day_rng, uasc_per_day)
        for i, kind in enumerate(kinds):
            ids = f"{prefix}{day:%y%m%d}{i:03d}"
            rng = random.Random(f"{seed}:{prefix}:{day.isoformat()}:{i}")
            j = Journey(rng, f"{prefix}P{day:%y%m%d}{i:03d}", day, kind, workforce, ids)
            _emit_journey(sink, j, extract_date, end_of_night)
        # Police notifications about children the council does not know (missing from home).
        for k in range(_poisson(day_rng, UNKNOWN_CHILD_POLICE_EPISODES_PER_YEAR * cfg.size / 365)):
            start = datetime.combine(day, time(0, 0)) + timedelta(minutes=day_rng.randrange(24 * 60))
            if start > end_of_night:
                continue
            found = start + timedelta(minutes=max(30, int(day_rng.lognormvariate(math.log(14 * 60), 1.0))))
            sink.put(feeds.POLICE_MISSING_NOTIFICATIONS, {
                "notification_id": _police_id("MPN", f"{prefix}:{day}:{k}:unknown child"),
                "police_person_reference": _police_id("PR", f"{prefix}:{day}:{k}:unknown child"),
                "crs_person_id": "", "nhs_number": "",
                "date_of_birth": _d(day - timedelta(days=day_rng.randint(12 * 365, 17 * 365))),
                "reported_missing_at": _dt(start), "found_at": _known(found, extract_date),
                "risk_level": day_rng.choices(feeds.POLICE_RISK_LEVELS, (8, 40, 40, 12))[0],
            })
        day += timedelta(days=1)

    _emit_workforce(sink, workforce, extract_date)


def _police_id(prefix: str, text: str) -> str:
    """A police id: stable for the same thing, unrelated to the council's ids (matching must not rely on it)."""
    return prefix + hashlib.blake2b(text.encode(), digest_size=6).hexdigest().upper()


def _emit_journey(sink: _Sink, j: Journey, extract_date: date, end_of_night: datetime) -> None:
    if j.contacts[0][1] > end_of_night:
        return
    born = not j.unborn or j.dob <= extract_date
    sink.put(feeds.CRS_PEOPLE, {
        "person_id": j.person_id, "nhs_number": j.nhs if born else "", "date_of_birth": _d(j.dob) if born else "",
        "expected_date_of_birth": "" if born else _d(j.dob), "gender": j.gender if born else "0",
        "ethnicity": j.ethnicity if born else "", "uasc": _yn(j.uasc), "postcode": j.postcode,
    })
    for contact_id, contact_at, source, decision_at, decision in j.contacts:
        if contact_at > end_of_night:
            continue
        decided = decision_at <= end_of_night
        updated = decision_at if decided else contact_at
        sink.put(feeds.CRS_CONTACTS, {
            "contact_id": contact_id, "person_id": j.person_id, "contact_at": _dt(contact_at),
            "contact_source": source, "decision_at": _dt(decision_at) if decided else "",
            "decision": decision if decided else "", "updated_at": _dt(updated),
        }, updated.date())
    for feed_id, rows in j.rows.items():
        feed = FEEDS_BY_ID[feed_id]
        for row, known_from in rows:
            if known_from > extract_date:
                continue
            sink.put(feed, {k: _known(v, extract_date) for k, v in row.items()})
    for allocation_id, worker, team, start, end in j.allocations:
        if start > extract_date:
            continue
        sink.put(feeds.CRS_ALLOCATIONS, {"allocation_id": allocation_id, "person_id": j.person_id, "worker_id": worker,
                                     "team": team, "start_date": _d(start), "end_date": _known(end, extract_date)})
    for visit_id, worker, day, kind, alone, recorded in j.visit_rows:
        if recorded > end_of_night:
            continue
        sink.put(feeds.CRS_VISITS, {"visit_id": visit_id, "person_id": j.person_id, "worker_id": worker,
                                "visit_date": _d(day), "visit_type": kind, "seen_alone": _yn(alone),
                                "updated_at": _dt(recorded)}, recorded.date())
    for entry_id, tracker, start, end, raised_by, resolved in j.trackers:
        if start > extract_date:
            continue
        closed = end <= extract_date
        sink.put(feeds.CRS_TRACKER_ENTRIES, {"entry_id": entry_id, "person_id": j.person_id, "tracker": tracker,
                                         "start_date": _d(start), "end_date": _d(end) if closed else "",
                                         "raised_by": raised_by, "resolved": _yn(closed and resolved)})
    cl = j.care_leaver
    if cl and cl["_eligible_from"] <= extract_date < cl["_duties_end"]:
        age18 = extract_date >= cl["_eighteen"]
        in_care = any(start <= extract_date and (end is None or extract_date < end) for start, end in j.la_periods)
        category = ("ELIGIBLE" if in_care else "RELEVANT") if not age18 else "FORMER_RELEVANT"
        if cl["_wrong_category"]:
            category = WRONG_CATEGORY[category]
        sink.put(feeds.CRS_CARE_LEAVERS, {
            **{k: v for k, v in cl.items() if not k.startswith("_")}, "eligibility_category": category,
            # OC3 fields are collected around the 17th-21st birthdays; empty before.
            "in_touch": cl["in_touch"] if age18 else "", "activity": cl["activity"] if age18 else "",
            "accommodation": cl["accommodation"] if age18 else "",
        })
    # Missing episodes, RHIs, police notifications and provider returns.
    rng = random.Random(f"{j.person_id}:partners")  # independent of the extract date
    shapes = random.Random(f"{j.person_id}:partner shapes")  # the seeded shapes: their own stream
    for n, ep in enumerate(j.missing):
        start, back = ep["start"], ep["end"]
        # Draw every partner decision before looking at the extract date, so nights agree.
        recorded_by_council = rng.random() < 0.88
        police_notified = rng.random() < (0.92 if ep["type"] == "M" else 0.3) or not recorded_by_council
        rhi_form = rng.random() < 0.85
        conducted_by = "PROVIDER" if rng.random() < (0.7 if ep["looked_after"] else 0.5) else "COUNCIL"
        roll = rng.random()
        offer_delay = timedelta(minutes=int(rng.lognormvariate(math.log(30 * 60), 0.8)))
        interview_delay = timedelta(minutes=int(rng.lognormvariate(math.log(20 * 60), 0.9)))
        police_lag = timedelta(minutes=rng.randint(20, 240))
        found_lag = timedelta(minutes=rng.randint(-60, 120))
        knows_crs_id, knows_nhs = rng.random() < 0.7, rng.random() < 0.6
        risk = rng.choices(feeds.POLICE_RISK_LEVELS, (10, 45, 38, 7))[0]
        provider_ref_episode = rng.random() < 0.8
        # Seeded shape: the council records the absence twice (same child, same start), the copy
        # sometimes without the return; the RHI form sometimes names the copy.
        recorded_twice = shapes.random() < DUPLICATE_EPISODE_SHARE
        copy_has_return, form_names_copy = shapes.random() < 0.5, shapes.random() < 0.3
        if start > end_of_night:
            continue
        end = back if back <= end_of_night else None
        episode_id = ep["episode_id"]
        team = next((t for _, w, t, s, e in j.allocations if s <= start.date() <= e), "Assessment North")
        if recorded_by_council:
            sink.put(feeds.CRS_MISSING_EPISODES, {
                "episode_id": episode_id, "person_id": j.person_id, "missing_type": ep["type"],
                "missing_start": _dt(start), "missing_end": _dt(end), "looked_after": _yn(ep["looked_after"]),
                "team": team,
            })
            if recorded_twice:
                sink.put(feeds.CRS_MISSING_EPISODES, {
                    "episode_id": f"{episode_id}D", "person_id": j.person_id, "missing_type": ep["type"],
                    "missing_start": _dt(start), "missing_end": _dt(end) if copy_has_return else "",
                    "looked_after": _yn(ep["looked_after"]), "team": team,
                })
        notification_id = ""
        reported = start + police_lag
        if police_notified and reported <= end_of_night:
            notification_id = _police_id("MPN", episode_id)
            found = max(back + found_lag, reported + timedelta(minutes=15)) if end else None
            sink.put(feeds.POLICE_MISSING_NOTIFICATIONS, {
                "notification_id": notification_id, "police_person_reference": _police_id("PR", j.person_id), "crs_person_id": j.person_id if knows_crs_id else "",
                "nhs_number": j.nhs if knows_nhs else "", "date_of_birth": _d(j.dob),
                "reported_missing_at": _dt(reported), "found_at": _dt(found) if found and found <= end_of_night else "",
                "risk_level": risk,
            })
        if end is None or not rhi_form:
            continue  # no return interview recorded: the gap the inspection found
        if roll < 0.55:
            outcome = "OFFERED_ACCEPTED"
        elif roll < 0.75:
            outcome = "OFFERED_DECLINED"
        elif roll < 0.83:
            outcome = "NOT_OFFERED_MISSING_AGAIN"
        elif roll < 0.95:
            outcome = "NOT_OFFERED_NO_CONTACT"
        else:
            outcome = "NOT_OFFERED_OTHER"
        offered = interview = None
        if outcome.startswith("OFFERED"):
            offered = end + offer_delay
            if offered > end_of_night:
                continue  # not recorded yet
            if outcome == "OFFERED_ACCEPTED":
                interview = offered + interview_delay
                if interview > end_of_night:
                    interview = None
        if recorded_by_council:
            sink.put(feeds.CRS_RETURN_HOME_INTERVIEWS, {
                "rhi_id": f"RHI{episode_id}",
                # (the form names the copy only when the copy holds the return it follows)
                "episode_id": f"{episode_id}D" if recorded_twice and form_names_copy and copy_has_return else episode_id,
                "offered_at": _dt(offered),
                "interview_at": _dt(interview), "outcome": outcome, "conducted_by": conducted_by,
            })
        if conducted_by == "PROVIDER" or not recorded_by_council:
            if not recorded_by_council and not notification_id:
                continue
            received = end + offer_delay / 3
            if received > end_of_night:
                continue
            sink.put(feeds.PROVIDER_RETURN_INTERVIEWS, {
                "provider_rhi_id": f"PRV{episode_id}", "crs_person_id": j.person_id,
                "crs_episode_id": episode_id if recorded_by_council and provider_ref_episode else "",
                "police_notification_id": notification_id, "referral_received_at": _dt(received),
                "offered_at": _dt(offered), "interview_at": _dt(interview), "outcome": outcome,
            })


def _emit_workforce(sink: _Sink, wf: Workforce, extract_date: date) -> None:
    snapshots = month_ends(extract_date)
    for snap in snapshots:
        month_start = snap.replace(day=1)
        for post in wf.posts:
            sink.put(feeds.HR_POSTS, {
                "snapshot_date": _d(snap), "post_id": post.post_id, "service_area": post.service_area,
                "team": post.team, "role_group": post.role_group, "role": post.role,
                "budgeted_fte": f"{post.budgeted_fte:.1f}", "case_holding": _yn(post.case_holding),
            })
        people = [(post, occ) for post in wf.posts for occ in post.occupancies if not occ.agency]
        people += [(None, occ) for occ in wf.extra_employees]
        for post, occ in people:
            # In the snapshot if started by the month-end and not left before the month began.
            if occ.start > snap or (occ.end is not None and occ.end < month_start):
                continue
            left = occ.end is not None and occ.end <= snap
            sink.put(feeds.HR_EMPLOYEES, {
                "snapshot_date": _d(snap), "employee_id": occ.worker_id, "post_id": post.post_id if post else "",
                "service_area": post.service_area if post else "CHILDREN_IN_NEED",
                "team": post.team if post else TEAMS["CHILDREN_IN_NEED"][0],
                "role_group": post.role_group if post else "SOCIAL_WORKER", "fte": f"{occ.fte:.1f}",
                "case_holding": _yn(post.case_holding if post else True),
                "is_asye": _yn(occ.asye and (snap - occ.start).days < 365),
                "start_date": _d(occ.start), "leaving_date": _d(occ.end) if left else "",
                "leaving_reason": occ.leaving_reason if left else "",
            })
    # Agency assignments that had started by the extract date, from the supplier's full list.
    history_start = snapshots[0].replace(day=1) - timedelta(days=365 * 2)
    assignments = [(p.service_area, p.team, p.role_group, p.post_id, o) for p in wf.posts for o in p.occupancies
                   if o.agency]
    assignments += [(a, t, g, "", o) for a, t, g, o in wf.extra_assignments]
    for area, team, group, post_id, occ in sorted(assignments, key=lambda a: a[4].assignment_id):
        if occ.start > extract_date or (occ.end is not None and occ.end < history_start):
            continue
        sink.put(feeds.AGENCY_ASSIGNMENTS, {
            "assignment_id": occ.assignment_id, "worker_id": occ.worker_id, "supplier": occ.supplier,
            "service_area": area, "team": team, "role_group": group, "fte": f"{occ.fte:.1f}", "case_holding": "Y",
            "covering_post_id": post_id, "start_date": _d(occ.start), "end_date": _known(occ.end, extract_date),
        })


# --- seeded defects -----------------------------------------------------------------------------


def _row_defect(writer: FeedWriter, kind: str, template: dict | None) -> None:
    """Append a few spoiled rows to a feed (before its file is closed)."""
    if template is None:
        return
    feed = writer.feed
    for n in range(3):
        row = dict(template)
        key = feed.key[-1]
        row[key] = f"{row[key]}-DEFECT{n}"
        if kind == "bad_date":
            column = next(c.name for c in feed.columns if c.type in (feeds.DATE, feeds.DATETIME) and c.required)
            row[column] = ("2026-02-30", "31/12/2025", "yesterday")[n]
        elif kind == "unknown_code":
            column = next(c.name for c in feed.columns if c.type == feeds.CODE and c.required)
            row[column] = ("X", "Z9", "UNKNOWN")[n]
        elif kind == "duplicate_key":
            row = dict(template)  # the same key as a row already written
            if n:
                continue
        elif kind == "end_before_start":
            start, end = feed.start_end
            column_type = feed.column(start).type
            if column_type == feeds.DATE:
                row[start], row[end] = "2025-06-10", "2025-06-01"
            else:
                row[start], row[end] = "2025-06-10 10:00", "2025-06-09 22:00"
        writer.write(row)


def _file_defect(path: Path, kind: str, encoding: str) -> None:
    """Spoil a whole file the way real deliveries go wrong."""
    data = path.read_bytes()
    if kind == "empty_file":
        path.write_bytes(b"")
        return
    lines = data.split(b"\n")
    if kind == "missing_column":
        # Drop the last column: a header and rows one field short.
        path.write_bytes(b"\n".join(line.rsplit(b",", 1)[0] if line else line for line in lines))
    elif kind == "unknown_column":
        path.write_bytes(b"\n".join((line.rstrip(b"\r") + (b",legacy_flag" if i == 0 else b",Y")
                                    + (b"\r" if line.endswith(b"\r") else b"")) if line else line
                                   for i, line in enumerate(lines)))
    elif kind == "truncated_file":
        path.write_bytes(data[: max(len(lines[0]) + 2, len(data) - max(10, len(lines[-2]) // 2) - 1)])
    elif kind == "wrong_delimiter":
        text = data.decode(encoding)
        rows = list(csv.reader(text.splitlines()))
        out = "\n".join(";".join(r) for r in rows) + "\n"
        path.write_bytes(out.encode(encoding))
    elif kind == "undecodable_bytes":
        # 0x81 is undefined in Windows-1252 and invalid UTF-8: no encoding councils use can read it.
        middle = len(lines) // 2
        lines[middle] = lines[middle].replace(b",", b",\x81\x8d", 1)
        path.write_bytes(b"\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m synthetic.generate", description=__doc__.split("\n")[0])
    parser.add_argument("landing_dir", type=Path)
    parser.add_argument("extract_date", type=date.fromisoformat)
    parser.add_argument("--scale", default="borough", choices=SCALES)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--boroughs", type=int, help="write the first N boroughs of the scale (default: all of them)")
    parser.add_argument("--full", action="store_true", default=None,
                        help="incremental feeds hold every row (default: only if no earlier delivery is in the landing folder)")
    parser.add_argument("--defects", nargs="*", default=(), metavar="KIND[=FEED]",
                        help=f"seed bad input: {', '.join(DEFECT_KINDS)}, or all")
    parser.add_argument("--encoding", default="utf-8", help="utf-8, utf-8-sig (with BOM) or cp1252")
    parser.add_argument("--crlf", action="store_true", help="Windows line ends")
    args = parser.parse_args(argv)
    defects = dict(d.split("=", 1) if "=" in d else (d, None) for d in args.defects)
    if defects:
        defects = _normalise_defects([k for k, v in defects.items() if v is None]) | {
            k: v for k, v in defects.items() if v is not None}
        _normalise_defects(defects)
    night = generate_night(args.landing_dir, args.extract_date, scale=args.scale, seed=args.seed,
                           boroughs=args.boroughs, full=args.full,
                           defects=defects or None, encoding=args.encoding, line_ending="\r\n" if args.crlf else "\n")
    for feed_id, path in night.files.items():
        print(f"{feed_id:32} {night.rows[feed_id]:>10,} rows  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
