"""Every measure of mart_partnership_scorecard, per month, from the delivered files.

Written from docs/rules.md (its measures, "Rules that hold across all measures",
"Privacy, suppression and retention") and docs/marts.md ("Front door and child protection", "Workforce",
"Partnership scorecard and suppression", "What a returns-only council gets"). The measures'
names, targets and polarities are the declaration docs/marts.md points to (var scorecard_measures
in dbt_project/dbt_project.yml): reference data, not a rule. How each is counted, and the feeds
each needs (NEEDS), are written here independently of that declaration.

One row per measure and month: numerator, denominator, value (numerator / denominator), target,
rag_status, is_suppressed, is_measurable. Decisions where the docs leave a choice are marked
DECISION.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from helpers import dbt_var

from . import missing, pathway
from .rules import (DEFAULTS, MET, PENDING, Settings, add_months, counted, date_status, dates, extract_time,
                    instant_status, local_month, london_instants, month_start, timely, working_day_deadline)

# docs/marts.md, "How not measurable is decided": the feeds each measure needs.
NEEDS = {
    "FD01": ("all", ("crs__contacts",)),
    "FD02": ("all", ("crs__referrals",)),
    "FD03": ("all", ("crs__referrals",)),
    "FD04": ("all", ("crs__assessments",)),
    "CP01": ("all", ("crs__s47_enquiries", "crs__icpcs")),
    "CP02": ("all", ("crs__s47_enquiries", "crs__icpcs")),
    "CP03": ("all", ("crs__cp_plans",)),
    "CP04": ("all", ("crs__cp_plans",)),
    "WF01": ("all", ("hr__posts", "hr__employees")),
    "WF02": ("all", ("hr__posts", "hr__employees")),
    "WF03": ("all", ("hr__posts", "hr__employees")),
    "RHI01": ("any", ("crs__return_home_interviews", "provider__return_interviews")),
    "PP01": ("all", ("crs__pathway_plan_events",)),
}


def measure_definitions() -> dict[str, dict]:
    """{measure id: {"target": "0.95" (text, exact as a Decimal), "unit", "direction"}}."""
    return {m["id"]: {"target": str(m["target"]), "unit": m["unit"], "direction": m["polarity"]}
            for m in dbt_var("scorecard_measures")}


def measurable(inputs, measure_id: str) -> bool:
    how, feeds = NEEDS[measure_id]
    found = [inputs.delivered(f) for f in feeds]
    return all(found) if how == "all" else any(found)


def one_per_event(frame: pd.DataFrame, id_column: str, start_column: str) -> pd.DataFrame:
    """docs/rules.md, "one event, one row": a record the source system holds twice (same child, same
    start) is one event. DECISION: the record with the lowest id stands for it."""
    return frame.sort_values(id_column).drop_duplicates(subset=["person_id", start_column], keep="first")


# --- the events: one row per event, with the month it counts in and its flags --------------------

def contacts(inputs, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """FD01. Contacts by month received, decided within 24 real hours (inclusive); an undecided
    contact whose 24 hours run to or past the end of the extract is pending (docs/marts.md)."""
    rows = one_per_event(inputs.rows("crs__contacts"), "contact_id", "contact_at")
    received, decided = london_instants(rows["contact_at"]), london_instants(rows["decision_at"])
    hours = timedelta(hours=settings.contact_decision_hours)
    as_at = pd.Timestamp(extract_time(inputs.extract_date)).tz_convert("UTC")
    status = [instant_status(r, d, r + hours, as_at) for r, d in zip(received, decided)]
    return pd.DataFrame({"contact_id": rows["contact_id"], "person_id": rows["person_id"], "contact_at": received,
                         "month": local_month(received), "decision_at": decided,
                         "hours_to_decision": ((decided - received).dt.total_seconds() / 3600).round(2),
                         "decision_status": status, "decided_within_24h": [timely(x) for x in status],
                         "in_denominator": [counted(x) for x in status]})


def referrals(inputs, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """FD02 (ended in NFA) and FD03 (a re-referral: the child's previous referral, on an earlier
    date, was at most 12 months before, inclusive), by referral month."""
    rows = one_per_event(inputs.rows("crs__referrals"), "referral_id", "referral_date")
    rows = rows.assign(day=dates(rows["referral_date"])).sort_values(["person_id", "day"])
    previous = rows.groupby("person_id")["day"].shift(1)
    repeat = [p is not None and not pd.isna(p) and add_months(d, -settings.re_referral_months) <= p < d
              for p, d in zip(previous, rows["day"])]
    return pd.DataFrame({"referral_id": rows["referral_id"], "person_id": rows["person_id"],
                         "referral_date": rows["day"], "month": rows["day"].map(month_start),
                         "is_nfa": rows["referral_nfa"] == "Y", "is_re_referral": repeat})


def assessments(inputs, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """FD04. Authorised within 45 working days, by the month the assessment started (so an open
    one past its due date counts as late from that day, in a month of its own); an open one still
    within its 45 days is pending (docs/marts.md, "A window still open is pending")."""
    rows = one_per_event(inputs.rows("crs__assessments"), "assessment_id", "start_date")
    start, authorised = dates(rows["start_date"]), dates(rows["authorised_date"])
    due = start.map(lambda d: working_day_deadline(d, settings.assessment_working_days))
    status = [date_status(a, d, inputs.extract_date) for a, d in zip(authorised, due)]
    return pd.DataFrame({"assessment_id": rows["assessment_id"], "person_id": rows["person_id"],
                         "start_date": start, "authorised_date": authorised, "due_date": due,
                         "month": start.map(month_start), "start_month": start.map(month_start),
                         "authorised_month": authorised.map(lambda d: month_start(d) if d else None),
                         "timeliness_status": status, "in_denominator": [counted(x) for x in status],
                         "within_45_working_days": [timely(x) for x in status]})


def s47_enquiries(inputs, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """CP01 and CP02, one row per section 47 enquiry with its first ICPC.

    CP01, by month of the strategy discussion: the first conference within 15 working days of it.
    Counted (docs/marts.md): an enquiry that held a conference (MET or MISSED), one concluded as
    needing one not yet held (MISSED once its 15 days have passed, PENDING before), one still open
    within its 15 days (PENDING); one concluded as not needing a conference is outside, and so is
    one still open past its 15 days until its outcome is known. A conference with no enquiry (a
    transfer-in) has no strategy discussion to time from: counted as a conference, not here.
    CP02, by month of the strategy discussion: of the enquiries whose outcome is known (an ICPC
    held, or concluded without one), those concluded without one. DECISION: concluded (an outcome
    date) with icpc_required not Y and no conference is "never reached"."""
    s47 = one_per_event(inputs.rows("crs__s47_enquiries"), "s47_id", "strategy_discussion_date")
    icpcs = one_per_event(inputs.rows("crs__icpcs"), "icpc_id", "icpc_date")
    icpcs = icpcs.assign(day=dates(icpcs["icpc_date"])).sort_values(["day", "icpc_id"])
    first = icpcs[icpcs["s47_id"] != ""].drop_duplicates(subset=["s47_id"], keep="first")
    first_icpc = dict(zip(first["s47_id"], first["day"]))
    strategy = dates(s47["strategy_discussion_date"])
    icpc = s47["s47_id"].map(lambda i: first_icpc.get(i))
    due = strategy.map(lambda d: working_day_deadline(d, settings.icpc_working_days))
    reached = icpc.notna()
    concluded = s47["outcome_date"] != ""
    needs_one = s47["icpc_required"] == "Y"
    never = ~reached & concluded & ~needs_one
    status = []
    for held, done, needed, deadline, day in zip(reached, concluded, needs_one, due, icpc):
        if held or (done and needed):
            status.append(date_status(day if held else None, deadline, inputs.extract_date))
        elif not done and deadline > inputs.extract_date:
            status.append(PENDING)
        else:  # concluded as not needing a conference, or open past its 15 days: outside
            status.append(None)
    return pd.DataFrame({"s47_id": s47["s47_id"], "person_id": s47["person_id"], "strategy_discussion_date": strategy,
                         "month": strategy.map(month_start), "icpc_date": icpc,
                         "icpc_month": icpc.map(lambda d: month_start(d) if d else None), "icpc_due_date": due,
                         "icpc_timeliness_status": status, "icpc_counted": [counted(x) for x in status],
                         "icpc_within_15_working_days": [bool(i) and i <= d for i, d in zip(icpc, due)],
                         "icpc_on_time": [x == MET for x in status],
                         "outcome_known": reached | never, "never_reached_icpc": never})


def cp_plans(inputs, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """CP03, by month ended: plans that lasted 2 years or more (ended on or after the start's 2nd
    anniversary; 29 February -> 28 February). CP04, by month started: a child's second or later
    plan, ever (CIN census)."""
    rows = one_per_event(inputs.rows("crs__cp_plans"), "cp_plan_id", "start_date")
    rows = rows.assign(start=dates(rows["start_date"]), end=dates(rows["end_date"]))
    rows = rows.sort_values(["person_id", "start", "cp_plan_id"])
    return pd.DataFrame({"cp_plan_id": rows["cp_plan_id"], "person_id": rows["person_id"], "start_date": rows["start"],
                         "end_date": rows["end"], "start_month": rows["start"].map(month_start),
                         "end_month": rows["end"].map(lambda d: month_start(d) if d else None),
                         "is_repeat": rows.groupby("person_id").cumcount() >= 1,
                         "lasted_2_years": [bool(e) and e >= add_months(s, 12 * settings.cp_plan_long_years)
                                            for s, e in zip(rows["start"], rows["end"])]})


def count_measures(inputs, settings: Settings = DEFAULTS) -> dict[str, dict]:
    """{measure: {month: (numerator, denominator)}} for the front door and child protection."""
    out = {}
    if inputs.delivered("crs__contacts"):
        c = contacts(inputs, settings)
        out["FD01"] = _by_month(c["month"], c["decided_within_24h"], c["in_denominator"])
    if inputs.delivered("crs__referrals"):
        r = referrals(inputs, settings)
        every = pd.Series(True, index=r.index)
        out["FD02"] = _by_month(r["month"], r["is_nfa"], every)
        out["FD03"] = _by_month(r["month"], r["is_re_referral"], every)
    if inputs.delivered("crs__assessments"):
        a = assessments(inputs, settings)
        out["FD04"] = _by_month(a["month"], a["within_45_working_days"], a["in_denominator"])
    if inputs.delivered("crs__s47_enquiries") and inputs.delivered("crs__icpcs"):
        s = s47_enquiries(inputs, settings)
        out["CP01"] = _by_month(s["month"], s["icpc_on_time"], s["icpc_counted"])
        out["CP02"] = _by_month(s["month"], s["never_reached_icpc"], s["outcome_known"])
    if inputs.delivered("crs__cp_plans"):
        p = cp_plans(inputs, settings)
        out["CP03"] = _by_month(p["end_month"], p["lasted_2_years"], p["end_date"].notna())
        out["CP04"] = _by_month(p["start_month"], p["is_repeat"], pd.Series(True, index=p.index))
    return out


def workforce(inputs, settings: Settings):
    """WF01 vacancy, WF02 agency, WF03 turnover: the grand total of each month-end snapshot (DfE
    children's social work workforce census definitions, docs/marts.md "Workforce")."""
    posts, employees = inputs.rows("hr__posts"), inputs.rows("hr__employees")
    agency = inputs.rows("agency__assignments")
    posts = posts.assign(day=dates(posts["snapshot_date"]), fte=posts["budgeted_fte"].map(Decimal))
    employees = employees.assign(day=dates(employees["snapshot_date"]), fte_d=employees["fte"].map(Decimal),
                                 start=dates(employees["start_date"]), left=dates(employees["leaving_date"]))
    if agency is not None:
        agency = agency.assign(start=dates(agency["start_date"]), end=dates(agency["end_date"]),
                               fte_d=agency["fte"].map(Decimal))
    result = {"WF01": {}, "WF02": {}, "WF03": {}}
    for day in sorted(set(posts["day"]) | set(employees["day"])):
        budgeted = sum(posts.loc[posts["day"] == day, "fte"], Decimal(0))
        month = employees[employees["day"] == day]
        in_post = month[(month["start"] <= day) & month["left"].map(lambda d: d is None or d >= day)]
        employed = sum(in_post["fte_d"], Decimal(0))
        agency_fte = Decimal(0)
        if agency is not None:
            active = agency[(agency["start"] <= day) & agency["end"].map(lambda d: d is None or d >= day)]
            # A worker on two assignments counts once: the later-started one (docs/marts.md).
            active = active.sort_values(["start", "assignment_id"]).drop_duplicates("worker_id", keep="last")
            agency_fte = sum(active["fte_d"], Decimal(0))
        window_start = add_months(day, -12)
        leavers = employees[employees["left"].map(lambda d: d is not None and window_start < d <= day)
                            & (employees["day"] <= day)]
        leavers = leavers.sort_values("day").drop_duplicates("employee_id", keep="last")
        leavers_fte = sum(leavers["fte_d"], Decimal(0))
        result["WF01"][month_start(day)] = (budgeted - employed, budgeted)
        result["WF02"][month_start(day)] = (agency_fte, employed + agency_fte)
        result["WF03"][month_start(day)] = (leavers_fte, employed)
    return result


def rhi01_offered_within_72_hours(episodes: pd.DataFrame):
    """By month of return: returned episodes outside a still-open window; offered within 72 hours."""
    returned = episodes[episodes["returned_at"].notna()]
    return _by_month(returned["return_month"], returned["offered_within_72h"], returned["in_denominator"])


def pp01_plans_by_statutory_due_date(young: pd.DataFrame):
    """By statutory due month: the first plan on or before the due date, of those measured (due date
    passed, or a plan made)."""
    if young.empty:
        return {}
    if young["is_pathway_plan_timeliness_measurable"].eq(False).all():  # every young person, not measured
        return _by_month(young["statutory_due_month"], pd.Series(False, index=young.index),
                         pd.Series(True, index=young.index))
    return _by_month(young["statutory_due_month"], young["statutory_on_time"], young["statutory_on_time"].notna())


def _by_month(months: pd.Series, numerator: pd.Series, denominator: pd.Series) -> dict[date, tuple[int, int]]:
    """{month: (numerator, denominator)} for every month with an event, counted or not."""
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for month, num, den in zip(months, numerator, denominator):
        if month is None or pd.isna(month):
            continue
        counts = out[month]
        counts[0] += int(bool(num) and bool(den))  # a null flag (pending) counts in neither
        counts[1] += int(bool(den))
    return {m: tuple(c) for m, c in out.items()}


# --- the scorecard ----------------------------------------------------------------------------------

def scorecard(inputs, key: str, settings: Settings = DEFAULTS, suppress: bool = True,
              episodes: pd.DataFrame | None = None, young: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reference mart_partnership_scorecard. `suppress=False` gives the counts before suppression."""
    definitions = measure_definitions()
    if episodes is None and inputs.delivered("crs__missing_episodes"):
        episodes = missing.episodes(inputs, key, settings)
    if young is None and inputs.delivered("crs__care_leavers"):
        young = pathway.young_people(inputs, key, settings)
    figures: dict[str, dict] = {}
    for measure_id, by_month in count_measures(inputs, settings).items():
        figures[measure_id] = by_month if measurable(inputs, measure_id) else {m: None for m in by_month}
    if measurable(inputs, "WF01"):
        figures.update(workforce(inputs, settings))
    if episodes is not None:
        counts = rhi01_offered_within_72_hours(episodes)
        figures["RHI01"] = counts if measurable(inputs, "RHI01") else {m: None for m in counts}
    if young is not None and not young.empty:
        counts = pp01_plans_by_statutory_due_date(young)
        figures["PP01"] = counts if measurable(inputs, "PP01") else {m: None for m in counts}

    rows = []
    tolerance = Fraction(str(settings.scorecard_amber_tolerance))
    last_month = month_start(inputs.extract_date)
    for measure_id, by_month in figures.items():
        d = definitions[measure_id]
        for month, counts in sorted(by_month.items()):
            if month > last_month:  # docs/marts.md: no month after the extract's month is reported
                continue
            row = {"measure_id": measure_id, "measure_month": month, "is_measurable": counts is not None,
                   "target": Decimal(d["target"]), "numerator": None, "denominator": None, "value": None,
                   "is_suppressed": False, "rag_status": None}
            if counts is None:
                row["rag_status"] = "NOT_MEASURABLE"
                rows.append(row)
                continue
            numerator, denominator = counts
            small = d["unit"] == "count" and suppress and any(
                1 <= c <= settings.suppression_threshold for c in (numerator, denominator))
            if small:
                row["is_suppressed"] = True
                rows.append(row)
                continue
            row["numerator"], row["denominator"] = Decimal(numerator), Decimal(denominator)
            if denominator:
                value = Fraction(Decimal(numerator)) / Fraction(Decimal(denominator))
                row["value"] = value
                row["rag_status"] = rag(value, Fraction(Decimal(d["target"])), d["direction"], tolerance)
            rows.append(row)
    return pd.DataFrame(rows, columns=["measure_id", "measure_month", "numerator", "denominator", "value", "target",
                                       "rag_status", "is_suppressed", "is_measurable"])


def rag(value: Fraction, target: Fraction, direction: str, tolerance: Fraction) -> str:
    """docs/marts.md, "RAG"."""
    if direction == "HIGHER_IS_BETTER":
        return "GREEN" if value >= target else "AMBER" if value >= target - tolerance else "RED"
    return "GREEN" if value <= target else "AMBER" if value <= target + tolerance else "RED"
