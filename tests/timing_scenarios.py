"""Random cases for the timing rules, drawn with hypothesis, written as a night's delivered files.

Each case is one child with the rows of the feeds that child needs, in the files' own text (London
local clock times, ISO dates), so the real loader, staging and marts read exactly what the
reference reads. The strategies lean on the places rules break: the clock changes (including the
nonexistent and the repeated local hour), month ends, 29 February, bank-holiday weekends, the
boundary of each timescale (72:00 / 72:01 hours, the N-th working day and the next), and the
extract time (windows still open at the end of the extract day).

`draw(strategy, count, seed)` collects `count` examples with hypothesis's own generator (pinned
seed, no database, no shrinking): the tests build one night from a whole batch and compare it
with the reference, because a dbt build per example would take hours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from helpers import dbt_var
from reference.rules import add_months, bank_holidays, nth_birthday, working_day_deadline

MINUTE = timedelta(minutes=1)


def draw(strategy, count: int, seed_value: int) -> list:
    """`count` examples of `strategy`, the same ones every run (pinned seed)."""
    found = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(seed_value)
    @given(strategy)
    def collect(example):
        found.append(example)

    collect()
    return found


def text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def last_sunday(year: int, month: int) -> date:
    d = add_months(date(year, month, 1), 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def clock_changes(extract_date: date) -> list[datetime]:
    """The local clock times at which the clocks changed (01:00 in March, 02:00 in October), up to
    the extract date: the hour after March's does not exist, the hour before October's happens twice."""
    changes = []
    for year in range(extract_date.year - 2, extract_date.year + 1):
        changes.append(datetime.combine(last_sunday(year, 3), datetime.min.time()) + timedelta(hours=1))
        changes.append(datetime.combine(last_sunday(year, 10), datetime.min.time()) + timedelta(hours=2))
    return [c for c in changes if c.date() <= extract_date]


def month_ends(extract_date: date) -> list[datetime]:
    """Midnight at the start of each month (29 February's end among them), up to the extract date."""
    starts = [datetime(year, month, 1) for year in range(extract_date.year - 2, extract_date.year + 1)
              for month in range(1, 13)]
    return [s for s in starts if s.date() <= extract_date]


@st.composite
def moments(draw, extract_date: date, before_minutes: int):
    """A local clock time never after the extract time: mostly shortly before a clock change (so a
    window of `before_minutes` after it spans the change), or near a month's end, 29 February 2024,
    the extract time itself, or anywhere in the last two years."""
    end = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    kind = draw(st.sampled_from(["clock_change", "clock_change", "month_end", "leap_day", "extract_time", "any"]))
    if kind == "clock_change":
        moment = draw(st.sampled_from(clock_changes(extract_date))) - timedelta(
            minutes=draw(st.integers(-120, before_minutes + 120)))
    elif kind == "month_end":
        moment = draw(st.sampled_from(month_ends(extract_date))) + timedelta(minutes=draw(st.integers(-300, 300)))
    elif kind == "leap_day":
        moment = datetime(2024, 2, 29, 12, 0) + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    elif kind == "extract_time":
        moment = end - timedelta(minutes=draw(st.integers(0, before_minutes + 120)))
    else:
        moment = end - timedelta(minutes=draw(st.integers(0, 2 * 365 * 24 * 60)))
    return min(moment, end)


def now_and_then(draw) -> bool:
    """True about one time in five (hypothesis leans towards small integers: 0 would be common)."""
    return draw(st.integers(0, 4)) == 3


def around(limit: int):
    """Minutes around a time limit: just past it first (hypothesis favours a list's first values),
    on it, just inside, and an hour either way (a clock change's hour), or anything up to twice it."""
    boundaries = st.sampled_from([limit + 1, limit, limit - 1, limit + 60, limit - 60, limit + 61, limit - 59,
                                  limit + 59, limit - 61, 0, 1])
    return st.one_of(boundaries, boundaries, st.integers(0, 2 * limit))


RHI_MINUTES = dbt_var("rhi_timescale_hours") * 60
CONTACT_MINUTES = dbt_var("contact_decision_hours") * 60
# Offsets (minutes after the return) for an offer: the 72-hour boundary on both sides, a clock
# change's hour either way, and anything up to four days.
OFFER_OFFSETS = around(RHI_MINUTES)


@st.composite
def missing_episode(draw, extract_date: date, kind: str):
    """One child's missing episode with its interview records.

    kind: "closed" (returned, the 72 hours over by the extract time), "pending" (returned in the
    72 hours before the extract time, or still missing), "offer_before_return", "duplicate"
    (the same episode recorded twice), "same_minute" (a council form and a provider return
    offering in the same minute, with different outcomes), "provider_by_time" (a provider return
    with no ids, referred around the return: during the absence, 168 hours after, or while the
    child is still missing). Other kinds never offer twice in one minute, and tie a provider return
    by child and time only when it was referred after the return."""
    end = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    if kind == "provider_by_time":  # long returned (the 168 hours over by the extract time), or still missing
        returned = draw(moments(extract_date, RHI_MINUTES).filter(lambda m: m + timedelta(hours=210) <= end))
        returned = None if now_and_then(draw) else returned
    elif kind == "pending":
        returned = end - timedelta(minutes=draw(st.one_of(
            st.sampled_from([1, RHI_MINUTES - 60, RHI_MINUTES - 1, RHI_MINUTES, RHI_MINUTES + 1, RHI_MINUTES + 60]),
            st.integers(1, RHI_MINUTES + 120))))
        returned = None if now_and_then(draw) else returned
    else:
        returned = draw(moments(extract_date, RHI_MINUTES).filter(lambda m: m + timedelta(minutes=RHI_MINUTES + 120) <= end))
    start = (returned or end) - timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
    episode = {"episode_id": "E1", "missing_type": draw(st.sampled_from(["M", "A"])), "missing_start": text(start),
               "missing_end": text(returned) if returned else "", "looked_after": draw(st.sampled_from(["Y", "N"])),
               "team": "Team A"}
    episodes = [episode]
    if kind == "duplicate":  # the source system holds the absence twice: same child, same start
        twin_end = draw(st.sampled_from(["same", "open", "later"]))
        twin = dict(episode, episode_id="E2")
        if twin_end == "open" or not returned:
            twin["missing_end"] = ""
        elif twin_end == "later":
            twin["missing_end"] = text(min(returned + timedelta(minutes=draw(st.integers(1, 600))), end))
        episodes.append(twin)
    forms, provider, offered_times = [], [], set()
    count = 2 if kind == "same_minute" else draw(st.integers(0, 2))
    for n in range(count):
        base = returned or start
        offset = draw(OFFER_OFFSETS)
        if kind == "offer_before_return" and n == 0:
            offset = -draw(st.integers(1, 30 * 60))
        offered = base + timedelta(minutes=offset)
        if kind == "same_minute" and n == 1:
            offered = previous
        while kind != "same_minute" and offered in offered_times:  # two sources offering in the same minute:
            offered += MINUTE                                        # a family of its own ("same_minute")
        offered_times.add(offered)
        previous = offered
        interview = offered + timedelta(minutes=draw(st.integers(0, 48 * 60)))
        row = {"offered_at": text(offered) if offered <= end else "",
               "interview_at": text(interview) if interview <= end and draw(st.booleans()) else "",
               "outcome": draw(st.sampled_from(["OFFERED_ACCEPTED", "OFFERED_DECLINED", "NOT_OFFERED_NO_CONTACT"]))}
        episode_id = draw(st.sampled_from([e["episode_id"] for e in episodes]))
        to_council = n == 0 if kind == "same_minute" else draw(st.booleans())
        if to_council:
            forms.append(dict(row, rhi_id=f"R{n}", episode_id=episode_id,
                              conducted_by=draw(st.sampled_from(["COUNCIL", "PROVIDER"]))))
        else:
            # Tied by the council's episode id, or by child and time (a referral after the return).
            by_id = kind == "same_minute" or not returned or draw(st.booleans())
            referral = min(base + timedelta(minutes=draw(st.integers(0, 8 * 24 * 60))), end)
            provider.append(dict(row, provider_rhi_id=f"V{n}", crs_episode_id=episode_id if by_id else "",
                                 police_notification_id="", referral_received_at=text(referral)))
    if kind == "provider_by_time":  # a provider return with no ids, around the 168 hours after the return
        minutes = draw(st.one_of(st.sampled_from([-1, 0, 1, 168 * 60 - 1, 168 * 60, 168 * 60 + 1]),
                                 st.integers(-24 * 60, 200 * 60)))
        referral = min((returned or start) + timedelta(minutes=minutes), end)
        # offered after the return (an offer before it is a family of its own)
        offered = max(referral, returned or referral) + timedelta(minutes=draw(st.integers(0, 24 * 60)))
        provider.append({"provider_rhi_id": "V9", "crs_episode_id": "", "police_notification_id": "",
                         "referral_received_at": text(referral), "offered_at": text(offered) if offered <= end else "",
                         "interview_at": "", "outcome": "OFFERED_DECLINED"})
    return {"crs__missing_episodes": episodes, "crs__return_home_interviews": forms,
            "provider__return_interviews": provider}


@st.composite
def contact(draw, extract_date: date):
    """A contact to the front door, decided around its 24 hours, or not yet decided."""
    end = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    received = draw(moments(extract_date, CONTACT_MINUTES))
    minutes = draw(around(CONTACT_MINUTES))
    decided = received + timedelta(minutes=minutes)
    if decided > end or now_and_then(draw):
        decided = None
    row = {"contact_id": "C1", "contact_at": text(received), "contact_source": "1A",
           "decision_at": text(decided) if decided else "", "decision": "NFA" if decided else "",
           "updated_at": text(decided or received)}
    return {"crs__contacts": [row]}


def working_day_anchors(first_year: int, last: date) -> list[date]:
    """Bank holidays and the days around them (long weekends, Christmas with substitute days)."""
    days = set()
    for holiday in bank_holidays(first_year, last.year):
        for k in range(-4, 5):
            days.add(holiday + timedelta(days=k))
    return sorted(d for d in days if d <= last)


@st.composite
def working_days_case(draw, extract_date: date, first_year: int, last_year: int):
    """An assessment and a section 47 enquiry starting near a bank holiday, finishing around their
    45th / 15th working day (or still open), and an ICPC with no enquiry (a transfer-in)."""
    last = min(extract_date, date(last_year, 12, 31))
    start = draw(st.sampled_from(working_day_anchors(first_year, last)))
    feeds = {}
    days = st.one_of(st.sampled_from([1, 0, -1, 2, 3]), st.integers(-10, 10))  # after the last day first
    due = working_day_deadline(start, dbt_var("assessment_working_days"))
    authorised = due + timedelta(days=draw(days))
    feeds["crs__assessments"] = [{"assessment_id": "A1", "start_date": start.isoformat(),
                                  "authorised_date": authorised.isoformat() if authorised <= extract_date
                                  and not now_and_then(draw) else "", "is_pre_birth": "N", "team": "Team A"}]
    due = working_day_deadline(start, dbt_var("icpc_working_days"))
    icpc = due + timedelta(days=draw(days))
    outcome = draw(st.sampled_from(["icpc", "no_icpc_needed", "open", "awaiting"]))
    if icpc > extract_date and outcome == "icpc":
        outcome = "awaiting"
    s47 = {"s47_id": "S1", "strategy_discussion_date": start.isoformat(),
           "icpc_required": {"icpc": "Y", "no_icpc_needed": "N", "open": "", "awaiting": "Y"}[outcome],
           "outcome_date": "" if outcome == "open" else min(icpc, extract_date).isoformat()}
    feeds["crs__s47_enquiries"] = [s47]
    feeds["crs__icpcs"] = []
    if outcome == "icpc":
        feeds["crs__icpcs"].append({"icpc_id": "I1", "s47_id": "S1", "icpc_date": icpc.isoformat(),
                                    "cp_plan_required": draw(st.sampled_from(["Y", "N"]))})
    if now_and_then(draw):  # a conference with no section 47 enquiry (a child transferred in)
        feeds["crs__icpcs"].append({"icpc_id": "I2", "s47_id": "", "icpc_date": min(icpc, extract_date).isoformat(),
                                    "cp_plan_required": "Y"})
    return feeds


@st.composite
def care_leaver(draw, extract_date: date, recorded: str, derive):
    """A young person aged 16 to 20 at the extract date with a looked-after history around the 13
    weeks since 14 that make them eligible, and plans and reviews around their deadlines.

    recorded: "derived" (the recorded category and eligibility date are what the statute gives,
    `derive(dob, episodes, in_education) -> (category, eligibility date)`), "as_recorded" (a date
    counted from the latest period of care only, or a category the history does not support)."""
    dob = draw(st.one_of(
        st.sampled_from([date(2008, 2, 29), date(2004, 2, 29), date(2008, 8, 31), date(2009, 5, 31),
                         date(2006, 12, 31), date(2010, 3, 1)]),
        st.dates(add_months(extract_date, -12 * 21) + timedelta(days=1), add_months(extract_date, -12 * 16))))
    b14, b16 = nth_birthday(dob, 14), nth_birthday(dob, 16)
    entry = b14 + timedelta(days=draw(st.integers(0, 3 * 365)))
    length = draw(st.sampled_from([76, 90, 91, 92, 200, 700]))
    periods = [(entry, entry + timedelta(days=length))]
    if draw(st.booleans()):  # back in care after 16 (the 13 weeks count in total, not per period)
        again = max(b16, periods[0][1]) + timedelta(days=draw(st.integers(1, 400)))
        periods.append((again, again + timedelta(days=draw(st.sampled_from([30, 91, 300, 2000])))))
    episodes = []
    for n, (start, end) in enumerate(periods):
        if start > extract_date:
            continue
        episodes.append({"la_episode_id": f"L{n}", "start_date": start.isoformat(),
                         "end_date": end.isoformat() if end <= extract_date else "", "reason_new_episode": "S",
                         "legal_status": "C2", "placement_type": "U1",
                         "reason_episode_ceased": "E8" if end <= extract_date else ""})
    in_education = draw(st.sampled_from(["Y", "N"]))
    category, eligible_from = derive(dob, episodes, in_education == "Y")
    if recorded == "as_recorded":
        if draw(st.booleans()) and len(episodes) > 1:  # 13 weeks counted in the latest period only
            latest = date.fromisoformat(episodes[-1]["start_date"]) + timedelta(weeks=dbt_var("eligible_child_looked_after_weeks"))
            eligible_from = max(latest, b16) if latest <= extract_date else None
        else:  # recorded eligible on too short a history
            category = draw(st.sampled_from(["ELIGIBLE", "RELEVANT", "FORMER_RELEVANT"]))
            eligible_from = eligible_from or b16 + timedelta(days=draw(st.integers(0, 100)))
        category = category if category in ("ELIGIBLE", "RELEVANT", "FORMER_RELEVANT") else "RELEVANT"
    leaver = {"eligibility_category": category or "QUALIFYING",
              "eligibility_date": eligible_from.isoformat() if eligible_from else "",
              "personal_adviser_id": draw(st.sampled_from(["", "W1"])),
              "in_touch": draw(st.sampled_from(["YES", "NO", "REFU", ""])),
              "activity": draw(st.sampled_from(["F1", "P2", "G4", "OTH", ""])),
              "accommodation": draw(st.sampled_from(["B1", "C2", "0", ""])),
              "in_education": in_education}
    # The first plan around its deadlines: the statutory due date, the local window before 16.
    due = add_months(max(b16, eligible_from or b16), 3)
    near = draw(st.sampled_from(["due", "window_start", "sixteen", "none"]))
    anchor = {"due": due, "window_start": add_months(b16, -3), "sixteen": b16, "none": None}[near]
    events = []
    if anchor:
        plan = anchor + timedelta(days=draw(st.integers(-2, 2)))
        if draw(st.booleans()):
            events.append(("NEEDS_ASSESSMENT", plan - timedelta(days=draw(st.integers(0, 60)))))
        events.append(("PATHWAY_PLAN", plan))
        review = plan
        for _ in range(draw(st.integers(0, 5))):  # reviews around every 6 months (month ends clamp)
            review = add_months(review, 6) + timedelta(days=draw(st.integers(-2, 2)))
            events.append(("PATHWAY_PLAN_REVIEW", review))
    events = [(kind, day) for kind, day in events if day <= extract_date]
    return {"crs__looked_after_episodes": episodes, "crs__care_leavers": [leaver],
            "crs__pathway_plan_events": [{"event_id": f"P{n}", "event_type": kind, "event_date": day.isoformat()}
                                         for n, (kind, day) in enumerate(events)],
            "date_of_birth": dob}
