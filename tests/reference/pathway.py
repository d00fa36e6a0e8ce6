"""Pathway plans, one row per eligible, relevant or former relevant young person, from the files.

Written from domain.md ("Pathway plans", "Derive what the statute defines") and docs/marts.md
("Pathway plans", the macros nth_birthday, add_months, activity_is_eet, accommodation_is_suitable,
council_in_touch). Decisions where the docs leave a choice are marked DECISION.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pandas as pd

from warehouse.pseudonymisation import pseudonym

from .rules import DEFAULTS, Settings, add_months, dates, month_start, nth_birthday

PATHWAY_CATEGORIES = ("ELIGIBLE", "RELEVANT", "FORMER_RELEVANT")
# SSDA903 legal statuses of short breaks: CPPCR Regulations 2010 reg 40(2) leaves a pre-planned
# series of short breaks out of the 13 weeks.
SHORT_BREAKS = ("V3", "V4")


def looked_after_spans(inputs) -> dict[str, list[tuple[date, date | None, str]]]:
    spans = defaultdict(list)
    la = inputs.rows("crs__looked_after_episodes")
    if la is not None:
        for person, start, end, status in zip(la["person_id"], dates(la["start_date"]), dates(la["end_date"]),
                                               la["legal_status"]):
            spans[person].append((start, end, status))
    return spans


def eligibility(date_of_birth: date, spans, extract_date: date, settings: Settings = DEFAULTS):
    """(eligibility date or None, first day looked after since 14 or None), CPPCR Regulations 2010
    reg 40: looked after for 13 weeks in total (91 days) since the 14th birthday, by periods of
    which one ends after the 16th birthday; eligible from 16 to 18.

    DECISION: 13 weeks after a day is 91 days later (looked after from 1 January: 13 weeks are
    complete on 2 April). A day is looked after when an episode has started on or before it and
    has not ended on it (the SSDA903 convention: not looked after on the day an episode ends).
    Days looked after are counted up to the extract date (no day after it is known)."""
    b14, b16, b18 = nth_birthday(date_of_birth, 14), nth_birthday(date_of_birth, 16), nth_birthday(date_of_birth, 18)
    days = set()
    for start, end, status in spans:
        if status in SHORT_BREAKS:
            continue
        day, stop = max(start, b14), min(end or extract_date + timedelta(days=1), extract_date + timedelta(days=1))
        while day < stop:
            days.add(day)
            day += timedelta(days=1)
    if not days:
        return None, None
    ordered = sorted(days)
    if len(ordered) < settings.eligibility_days:
        return None, ordered[0]
    complete = ordered[settings.eligibility_days - 1] + timedelta(days=1)  # the day after the 91st day
    if complete > b16:
        eligible_from = complete
    else:  # the 13 weeks were complete before 16: eligible on the first day looked after from 16
        eligible_from = next((d for d in ordered if d >= b16), None)
    if eligible_from is None or eligible_from >= b18 or eligible_from > extract_date:
        return None, ordered[0]
    return eligible_from, ordered[0]


def derived_category(date_of_birth: date | None, eligible_from: date | None, looked_after_now: bool,
                     in_education: bool, extract_date: date) -> str | None:
    """The Children (Leaving Care) Act 2000 categories as at the extract date. DECISION: former
    relevant from 18 until the 21st birthday, or the 25th when in education or training (the feed's
    in_education flag); a young person who never became eligible is QUALIFYING (no pathway plan
    duty); with no date of birth nothing can be derived (None)."""
    if date_of_birth is None:
        return None
    b16, b18 = nth_birthday(date_of_birth, 16), nth_birthday(date_of_birth, 18)
    if extract_date < b16:
        return None
    if eligible_from is None:
        return "QUALIFYING"
    if extract_date < b18:
        return "ELIGIBLE" if looked_after_now else "RELEVANT"
    limit = nth_birthday(date_of_birth, 25 if in_education else 21)
    return "FORMER_RELEVANT" if extract_date < limit else "QUALIFYING"


def is_eet(activity: str):
    """docs/marts.md, activity_is_eet: F*/P* yes, G4/G5/G6 no, anything else unknown."""
    if activity[:1] in ("F", "P"):
        return True
    if activity in ("G4", "G5", "G6"):
        return False
    return None


def is_suitable(accommodation: str):
    """docs/marts.md, accommodation_is_suitable: second character 1 yes, 2 no, else unknown."""
    return {"1": True, "2": False}.get(accommodation[1:2]) if len(accommodation) == 2 else None


def in_touch(code: str):
    """docs/marts.md, council_in_touch: only YES is in touch; empty unknown."""
    return None if code == "" else code == "YES"


def young_people(inputs, key: str, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """The reference mart_pathway_plans."""
    extract_date = inputs.extract_date
    people = inputs.rows("crs__people")
    date_of_birth = dict(zip(people["person_id"], dates(people["date_of_birth"])))
    spans = looked_after_spans(inputs)
    events = defaultdict(list)
    plans_delivered = inputs.delivered("crs__pathway_plan_events")
    if plans_delivered:
        ev = inputs.rows("crs__pathway_plan_events")
        for person, kind, day in zip(ev["person_id"], ev["event_type"], dates(ev["event_date"])):
            events[person].append((day, kind))
    out = []
    leavers = inputs.rows("crs__care_leavers")
    for cl in leavers.itertuples(index=False):
        person = cl.person_id
        dob = date_of_birth.get(person)
        if inputs.derive_leaving_care:
            # domain.md: derive what the statute defines; the recorded category is compared with it.
            eligible_from, first_looked_after = eligibility(dob, spans[person], extract_date, settings) if dob else (None, None)
            now = any(s <= extract_date and (e is None or e > extract_date) for s, e, _ in spans[person])
            category = derived_category(dob, eligible_from, now, cl.in_education == "Y", extract_date)
        else:  # a statutory return: the category its mapping gives (docs/returns.md), no history to derive from
            category, first_looked_after = cl.eligibility_category, None
            eligible_from = dates(pd.Series([cl.eligibility_date]))[0]
        if category not in PATHWAY_CATEGORIES:
            continue
        row = {"person_key": pseudonym(key, "person", person), "recorded_category": cl.eligibility_category,
               "eligibility_category": category, "eligibility_date": eligible_from,
               "birth_month": month_start(dob) if dob else None, "as_at_date": extract_date,
               "has_personal_adviser": cl.personal_adviser_id != "",
               "in_touch_code": cl.in_touch or None, "is_in_touch": in_touch(cl.in_touch),
               "activity_code": cl.activity or None, "is_in_education_employment_training": is_eet(cl.activity),
               "accommodation_code": cl.accommodation or None,
               "is_accommodation_suitable": is_suitable(cl.accommodation),
               "is_pathway_plan_timeliness_measurable": plans_delivered}
        sixteen = nth_birthday(dob, 16) if dob else None
        row["sixteenth_birthday_month"] = month_start(sixteen) if sixteen else None
        starts = [d for d in (sixteen, eligible_from) if d]
        due = add_months(max(starts), settings.pathway_plan_statutory_months) if starts else None
        row["statutory_due_date"] = due
        row["statutory_due_month"] = month_start(due) if due else None
        measures = _plan_measures(sorted(events[person]), due, sixteen, eligible_from, first_looked_after,
                                  extract_date, settings)
        # docs/marts.md: without the plan events, timeliness and reviews are null (not measurable).
        row.update(measures if plans_delivered else dict.fromkeys(measures))
        out.append(row)
    return pd.DataFrame(out)


def _plan_measures(events, due, sixteen, eligible_from, first_looked_after, extract_date, settings):
    """Timeliness of the first plan and the review intervals (docs/marts.md, "Pathway plans").
    domain.md: a window still open is pending (null), not late; it closes at the end of its last day."""
    plans = [d for d, kind in events if kind == "PATHWAY_PLAN"]
    assessments = [d for d, kind in events if kind == "NEEDS_ASSESSMENT"]
    reviews = [d for d, kind in events if kind == "PATHWAY_PLAN_REVIEW"]
    plan_or_review = sorted(d for d, kind in events if kind in ("PATHWAY_PLAN", "PATHWAY_PLAN_REVIEW"))
    first_plan = plans[0] if plans else None
    m = {"first_plan_date": first_plan, "first_needs_assessment_date": assessments[0] if assessments else None,
         "last_review_date": reviews[-1] if reviews else None,
         "last_plan_or_review_date": plan_or_review[-1] if plan_or_review else None,
         "review_count": len(reviews)}
    if due is None:
        m.update(statutory_on_time=None, statutory_days_late=None)
    elif first_plan is not None:
        m.update(statutory_on_time=first_plan <= due, statutory_days_late=max(0, (first_plan - due).days))
    elif due <= extract_date:
        m.update(statutory_on_time=False, statutory_days_late=(extract_date - due).days)
    else:
        m.update(statutory_on_time=None, statutory_days_late=None)
    if sixteen is None:
        m.update(practice_standard_met=None, practice_days_late=None)
    elif first_plan is not None:
        window_start = add_months(sixteen, -settings.pathway_plan_practice_window_months)
        m.update(practice_standard_met=window_start <= first_plan <= sixteen,
                 practice_days_late=max(0, (first_plan - sixteen).days))
    elif sixteen <= extract_date:
        m.update(practice_standard_met=False, practice_days_late=(extract_date - sixteen).days)
    else:
        m.update(practice_standard_met=None, practice_days_late=None)
    # DECISION (issue 15 item 5): the flag marks a plan that predates the child's time in care
    # since 14 (a data problem to check), never a plan made early for the local practice standard.
    m["plan_started_before_eligibility"] = bool(first_plan and first_looked_after and first_plan < first_looked_after)
    m["review_overdue"] = (extract_date > add_months(plan_or_review[-1], settings.pathway_plan_review_months)
                           if plan_or_review else None)
    gaps = list(zip(plan_or_review, plan_or_review[1:]))
    m["longest_review_interval_days"] = max((b - a).days for a, b in gaps) if gaps else None
    m["late_review_count"] = sum(1 for a, b in gaps if b > add_months(a, settings.pathway_plan_review_months))
    return m
