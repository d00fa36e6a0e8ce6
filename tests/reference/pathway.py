"""Pathway plans, one row per eligible, relevant or former relevant young person, from the files.

Written from docs/rules.md ("Pathway plans and care leavers", "Derive what the statute defines")
and docs/marts.md
("Pathway plans", the macros nth_birthday, add_months, activity_is_eet, accommodation_is_suitable,
council_in_touch). Decisions where the docs leave a choice are marked DECISION.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pandas as pd

from warehouse.pseudonymisation import pseudonym

from .rules import DEFAULTS, PENDING, Settings, add_months, date_status, dates, month_start, nth_birthday, timely

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


def eligibility(date_of_birth: date, spans, extract_date: date, settings: Settings = DEFAULTS) -> date | None:
    """The eligibility date, CPPCR Regulations 2010 reg 40 as docs/marts.md counts it: days looked
    after from the 14th birthday up to and including a day (looked after on a day: an episode
    started on or before it and not ended on it, as SSDA903 counts; short breaks V3/V4 left out),
    at least 91 (13 weeks); the first such day on or after the 16th birthday and before the 18th
    on which the child is looked after. Days are counted up to the extract date (no later day is
    known)."""
    b14, b16, b18 = nth_birthday(date_of_birth, 14), nth_birthday(date_of_birth, 16), nth_birthday(date_of_birth, 18)
    days = set()
    for start, end, status in spans:
        if status in SHORT_BREAKS:
            continue
        day, stop = max(start, b14), min(end or extract_date + timedelta(days=1), extract_date + timedelta(days=1))
        while day < stop:
            days.add(day)
            day += timedelta(days=1)
    for count, day in enumerate(sorted(days), start=1):
        if day >= b18:
            return None
        if count >= settings.eligibility_days and day >= b16:
            return day
    return None


def derived_category(date_of_birth: date | None, eligible_from: date | None, looked_after_now: bool,
                     in_education: bool, extract_date: date) -> str | None:
    """The Children (Leaving Care) Act 2000 categories as at the extract date (docs/marts.md,
    "Derive what the statute defines"): eligible (16-17, looked after), relevant (16-17, not),
    former relevant (18 to the 21st birthday, or the 25th when the care-leaver record says in
    education or training). A young person who never became eligible is QUALIFYING (no pathway
    plan duty); with no date of birth nothing can be derived (None)."""
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
    """The reference mart_pathway_plans: every young person eligible, relevant or former relevant by
    either account, the episodes' or the care-leaver record's (docs/marts.md). The timeliness uses
    the derived category and eligibility date; the recorded ones only where there is nothing to
    derive from (no looked-after episode or no date of birth: a statutory return's care leavers,
    whose earlier episodes the return does not hold)."""
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
    leavers = inputs.rows("crs__care_leavers")
    records = {r["person_id"]: r for r in leavers.to_dict("records")} if leavers is not None else {}
    out = []
    for person in sorted(set(records) | set(spans)):
        record = records.get(person)
        dob = date_of_birth.get(person)
        recorded = record["eligibility_category"] if record else None
        recorded_date = dates(pd.Series([record["eligibility_date"]]))[0] if record else None
        derivable = dob is not None and bool(spans[person])
        if derivable:
            eligible_from = eligibility(dob, spans[person], extract_date, settings)
            # Looked after at the extract date, short breaks (V3/V4) aside as in the 13 weeks.
            now = any(s <= extract_date and (e is None or e > extract_date) and status not in SHORT_BREAKS
                      for s, e, status in spans[person])
            in_education = bool(record) and record["in_education"] == "Y"
            derived = derived_category(dob, eligible_from, now, in_education, extract_date)
            derived = derived if derived in PATHWAY_CATEGORIES else None
            category, eligible_from = derived, (eligible_from if derived else None)
            check = ("NOT_RECORDED" if not record else
                     "AGREES" if recorded == derived or (recorded == "QUALIFYING" and derived is None) else "DIFFERS")
        else:
            category, eligible_from, check = recorded, recorded_date, "NOT_DERIVABLE"
        if category not in PATHWAY_CATEGORIES and recorded not in PATHWAY_CATEGORIES:
            continue  # no pathway plan duty by either account
        record = record or {}
        activity, accommodation, touch = (record.get(c, "") for c in ("activity", "accommodation", "in_touch"))
        row = {"person_key": pseudonym(key, "person", person), "eligibility_category": category,
               "recorded_eligibility_category": recorded, "recorded_eligibility_date": recorded_date,
               "category_check": check if record else "NOT_RECORDED",
               "eligibility_date": eligible_from, "birth_month": month_start(dob) if dob else None,
               "as_at_date": extract_date, "has_personal_adviser": record.get("personal_adviser_id", "") != "",
               "in_touch_code": touch or None, "is_in_touch": in_touch(touch) if record else None,
               "activity_code": activity or None, "is_in_education_employment_training": is_eet(activity),
               "accommodation_code": accommodation or None, "is_accommodation_suitable": is_suitable(accommodation),
               "is_pathway_plan_timeliness_measurable": plans_delivered}
        sixteen = nth_birthday(dob, 16) if dob else None
        row["sixteenth_birthday_month"] = month_start(sixteen) if sixteen else None
        owed = category in PATHWAY_CATEGORIES  # the timeliness follows the category used
        starts = [d for d in (sixteen, eligible_from) if d]
        due = add_months(max(starts), settings.pathway_plan_statutory_months) if owed and starts else None
        row["statutory_due_date"] = due
        row["statutory_due_month"] = month_start(due) if due else None
        first_looked_after = min((s for s, _, _ in spans[person]), default=None)
        measures = _plan_measures(sorted(events[person]), due, sixteen if owed else None, first_looked_after,
                                  extract_date, settings)
        # docs/marts.md: without the plan events, timeliness and reviews are null (not measurable).
        row.update(measures if plans_delivered else dict.fromkeys(measures))
        out.append(row)
    return pd.DataFrame(out)


def _plan_measures(events, due, sixteen, first_looked_after, extract_date, settings):
    """Timeliness of the first plan and the review intervals (docs/marts.md, "Pathway plans"); a
    window still open at the extract date is PENDING (null flags), not late."""
    plans = [d for d, kind in events if kind == "PATHWAY_PLAN"]
    assessments = [d for d, kind in events if kind == "NEEDS_ASSESSMENT"]
    reviews = [d for d, kind in events if kind == "PATHWAY_PLAN_REVIEW"]
    plan_or_review = sorted(d for d, kind in events if kind in ("PATHWAY_PLAN", "PATHWAY_PLAN_REVIEW"))
    first_plan = plans[0] if plans else None
    m = {"first_plan_date": first_plan, "first_needs_assessment_date": assessments[0] if assessments else None,
         "last_review_date": reviews[-1] if reviews else None,
         "last_plan_or_review_date": plan_or_review[-1] if plan_or_review else None,
         "review_count": len(reviews)}
    # An early plan (before the eligibility date, or the 16th birthday) is on time: early is not late.
    status = date_status(first_plan, due, extract_date) if due else None
    m["statutory_status"], m["statutory_on_time"] = status, timely(status)
    m["statutory_days_late"] = (None if status in (None, PENDING) else
                                max(0, ((first_plan or extract_date) - due).days))
    practice = (date_status(first_plan, sixteen, extract_date,
                            window_start=add_months(sixteen, -settings.pathway_plan_practice_window_months))
                if sixteen else None)
    m["practice_status"], m["practice_standard_met"] = practice, timely(practice)
    m["practice_days_late"] = (None if practice in (None, PENDING) else
                               max(0, ((first_plan or extract_date) - sixteen).days))
    # A data problem only: the first plan is dated before the young person was first looked after.
    m["plan_started_before_looked_after"] = (first_plan < first_looked_after if first_looked_after else False) \
        if first_plan else None
    m["review_overdue"] = (extract_date > add_months(plan_or_review[-1], settings.pathway_plan_review_months)
                           if plan_or_review else None)
    gaps = list(zip(plan_or_review, plan_or_review[1:]))
    m["longest_review_interval_days"] = max((b - a).days for a, b in gaps) if gaps else None
    m["late_review_count"] = sum(1 for a, b in gaps if b > add_months(a, settings.pathway_plan_review_months))
    return m
