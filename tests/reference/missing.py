"""Missing episodes and return home interviews, one row per episode, from the delivered files.

Written from docs/rules.md ("Return home interviews and missing episodes", "Rules that hold across
all measures") and
docs/marts.md ("Matching the same child across feeds", "Return home interviews"). Decisions where
the docs leave a choice are marked DECISION.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pandas as pd

from warehouse.pseudonymisation import pseudonym

from .rules import (DEFAULTS, Settings, counted, dates, extract_time, instant_status, local_month, london_instants,
                    timely)

RHI_COLUMNS = ("rhi_recorded", "rhi_recorded_by_council", "rhi_returned_by_provider", "offered_at", "interview_at",
               "conducted_by", "outcome", "hours_to_offer", "hours_to_interview", "offer_status", "interview_status",
               "offered_within_72h", "interviewed_within_72h", "offer_before_return")
RISK_ORDER = {"HIGH": 4, "MEDIUM": 3, "LOW": 2, "NO_APPARENT_RISK": 1}
FAR = pd.Timestamp.max.tz_localize("UTC")


def _windows_match(reported, found, start, returned, tolerance: timedelta) -> bool:
    """docs/marts.md: a police notification is a council episode of the same child when the time
    windows overlap, or the police report is within the tolerance of the council's start."""
    overlap = reported <= (returned if not pd.isna(returned) else FAR) and start <= (found if not pd.isna(found) else FAR)
    return overlap or abs(reported - start) <= tolerance


def episodes(inputs, key: str, settings: Settings = DEFAULTS) -> pd.DataFrame:
    """The reference mart_return_home_interviews: every council episode (a record the system holds
    twice, same child and same start, is one episode) and every police-only episode."""
    extract_date = inputs.extract_date
    as_at = pd.Timestamp(extract_time(extract_date)).tz_convert("UTC")
    tolerance = timedelta(hours=settings.missing_match_tolerance_hours)
    window = timedelta(hours=settings.rhi_timescale_hours)
    rhi_measurable = inputs.delivered("crs__return_home_interviews") or inputs.delivered("provider__return_interviews")

    people = inputs.rows("crs__people")
    date_of_birth = dict(zip(people["person_id"], dates(people["date_of_birth"])))
    nhs_people, born_on = defaultdict(set), defaultdict(set)
    for person, nhs in zip(people["person_id"], people["nhs_number"]):
        if nhs:
            nhs_people[nhs].add(person)
    for person, born in date_of_birth.items():
        born_on[born].add(person)

    # --- council episodes, one per child and start ----------------------------------------------
    council = inputs.rows("crs__missing_episodes").copy()
    council["start"] = london_instants(council["missing_start"])
    council["returned"] = london_instants(council["missing_end"])
    # docs/marts.md, "One event, one row": of two records of one absence (same child, same start)
    # the first by (a return recorded before none, then the lowest id) stands for it; every
    # interview record or notification naming either belongs to it.
    council = council.assign(_open=council["missing_end"] == "").sort_values(["_open", "episode_id"])
    first_id = council.groupby(["person_id", "start"], sort=False)["episode_id"].transform("first")
    survivor = dict(zip(council["episode_id"], first_id))
    council = council.drop_duplicates(subset=["person_id", "start"], keep="first")

    by_person = defaultdict(list)  # person -> [episode dict]
    rows: dict[str, dict] = {}
    for e in council.itertuples(index=False):
        row = {"episode": e.episode_id, "person_id": e.person_id, "person_key": pseudonym(key, "person", e.person_id),
               "missing_type": e.missing_type, "is_looked_after": e.looked_after == "Y", "team": e.team,
               "missing_start_at": e.start, "returned_at": e.returned, "recorded_by_council": True,
               "notified_by_police": False, "police_notifications": []}
        rows[e.episode_id] = row
        by_person[e.person_id].append(row)

    # --- police notifications: which child, and which council episode -----------------------------
    police = inputs.rows("police__missing_notifications")
    if police is None:
        police = pd.DataFrame(columns=["notification_id", "police_person_reference", "crs_person_id", "nhs_number",
                                       "date_of_birth", "reported_missing_at", "found_at", "risk_level"])
    police = police.copy()
    police["reported"] = london_instants(police["reported_missing_at"])
    police["found"] = london_instants(police["found_at"])

    def matching_episodes(person, reported, found):
        return [r for r in by_person.get(person, [])
                if _windows_match(reported, found, r["missing_start_at"], r["returned_at"], tolerance)]

    candidates = defaultdict(set)
    for n in police.itertuples(index=False):
        if n.crs_person_id and n.crs_person_id in date_of_birth:
            candidates[n.police_person_reference].add(n.crs_person_id)
        elif n.nhs_number and len(nhs_people.get(n.nhs_number, ())) == 1:
            candidates[n.police_person_reference].update(nhs_people[n.nhs_number])
        elif not n.crs_person_id and not n.nhs_number and n.date_of_birth:
            # No shared identifier: date of birth AND a council episode at the same time.
            born = date.fromisoformat(n.date_of_birth)
            fits = {p for p in born_on.get(born, ()) if matching_episodes(p, n.reported, n.found)}
            if len(fits) == 1:
                candidates[n.police_person_reference].update(fits)
    person_of = {ref: next(iter(found)) for ref, found in candidates.items() if len(found) == 1}

    looked_after_days = defaultdict(list)
    la = inputs.rows("crs__looked_after_episodes")
    if la is not None:
        for person, start, end in zip(la["person_id"], dates(la["start_date"]), dates(la["end_date"])):
            looked_after_days[person].append((start, end))

    unrecorded = defaultdict(list)  # child (person or police reference) -> notifications
    notification_episode = {}
    for n in police.itertuples(index=False):
        person = person_of.get(n.police_person_reference)
        if person:
            found_episodes = matching_episodes(person, n.reported, n.found)
            if found_episodes:
                # DECISION: of several council episodes a notification fits, the nearest start.
                episode = min(found_episodes, key=lambda r: (abs(r["missing_start_at"] - n.reported), r["episode"]))
                episode["notified_by_police"] = True
                episode["police_notifications"].append(n)
                notification_episode[n.notification_id] = episode["episode"]
                continue
        unrecorded[("person", person) if person else ("police_person", n.police_person_reference)].append(n)

    # Police-only absences: re-reports of one absence (a report within the tolerance of the end
    # of the previous one) are one episode.
    for (domain, child), notifications in unrecorded.items():
        notifications.sort(key=lambda n: (n.reported, n.notification_id))
        groups, latest_end = [], None
        for n in notifications:
            # DECISION: a notification still open ends, for grouping, when it was reported.
            if latest_end is None or n.reported > latest_end + tolerance:
                groups.append([])
            groups[-1].append(n)
            end = n.found if not pd.isna(n.found) else n.reported
            latest_end = end if latest_end is None else max(latest_end, end)
        for group in groups:
            start = group[0].reported
            last = max(group, key=lambda n: (n.reported, n.notification_id))
            # DECISION: the absence ended at the latest time found, unless its latest report is open.
            returned = pd.NaT if pd.isna(last.found) else max(n.found for n in group if not pd.isna(n.found))
            episode_id = f"police:{group[0].notification_id}"
            is_looked_after = False
            if domain == "person":
                day = start.tz_convert("Europe/London").date()
                is_looked_after = any(s <= day and (e is None or e > day) for s, e in looked_after_days[child])
            row = {"episode": episode_id, "person_id": child if domain == "person" else None,
                   "person_key": pseudonym(key, domain, child), "missing_type": None,
                   "is_looked_after": is_looked_after, "team": None, "missing_start_at": start,
                   "returned_at": returned, "recorded_by_council": False, "notified_by_police": True,
                   "police_notifications": group}
            rows[episode_id] = row
            if domain == "person":
                by_person[child].append(row)
            for n in group:
                notification_episode[n.notification_id] = episode_id

    # --- interview records: the council's forms and the provider's returns ------------------------
    records = defaultdict(list)  # episode -> [(offered, record id, source, conducted_by, interview, outcome)]
    forms = inputs.rows("crs__return_home_interviews")
    if forms is not None:
        forms = forms.assign(offered=london_instants(forms["offered_at"]), interview=london_instants(forms["interview_at"]))
        for f in forms.itertuples(index=False):
            if f.episode_id in survivor:
                records[survivor[f.episode_id]].append((f.offered, f.rhi_id, "COUNCIL", f.conducted_by, f.interview,
                                                        f.outcome))
    provider = inputs.rows("provider__return_interviews")
    if provider is not None:
        provider = provider.assign(offered=london_instants(provider["offered_at"]),
                                   interview=london_instants(provider["interview_at"]),
                                   referral=london_instants(provider["referral_received_at"]))
        match_window = timedelta(hours=settings.provider_referral_match_window_hours)
        for p in provider.itertuples(index=False):
            # docs/marts.md: by the council episode id, else the police notification id, else the
            # child's latest episode that started before the referral and returned at most 168 h
            # before it. DECISION: an id that names nothing known falls through to the next rule;
            # "at most 168 h before" bounds how long before: an episode still open, or returned
            # after the referral was made (the child referred while missing), fits too; and
            # "started before" includes the same minute (times are to the minute).
            episode = survivor.get(p.crs_episode_id) if p.crs_episode_id else None
            if episode is None and p.police_notification_id:
                episode = notification_episode.get(p.police_notification_id)
            if episode is None:
                fits = [r for r in by_person.get(p.crs_person_id, [])
                        if r["missing_start_at"] <= p.referral
                        and (pd.isna(r["returned_at"]) or p.referral - r["returned_at"] <= match_window)]
                if fits:
                    episode = max(fits, key=lambda r: (r["missing_start_at"], r["episode"]))["episode"]
            if episode is not None:
                records[episode].append((p.offered, p.provider_rhi_id, "PROVIDER", "PROVIDER", p.interview, p.outcome))

    # --- the measure -----------------------------------------------------------------------------
    out = []
    for episode_id, r in rows.items():
        returned, start = r["returned_at"], r["missing_start_at"]
        found = sorted(records.get(episode_id, []), key=lambda x: (pd.isna(x[0]), x[0] if not pd.isna(x[0]) else FAR, x[1]))
        first = found[0] if found else None
        offered = first[0] if first else pd.NaT
        interview = first[4] if first else pd.NaT
        is_returned = not pd.isna(returned)
        # docs/marts.md, "A window still open is pending": an offer recorded before the return is
        # MISSED; with no offer yet, PENDING while the 72 hours run to or past the end of the extract.
        offer_status = instant_status(returned, offered, returned + window, as_at) if is_returned else None
        interview_status = instant_status(returned, interview, returned + window, as_at) if is_returned else None
        notifications = r["police_notifications"]
        row = {
            "person_key": r["person_key"], "missing_start_at": start, "episode": episode_id,
            "missing_type": r["missing_type"], "is_looked_after": r["is_looked_after"], "team": r["team"],
            "returned_at": returned if is_returned else pd.NaT,
            "in_denominator": counted(offer_status) if rhi_measurable else is_returned,
            "recorded_by_council": r["recorded_by_council"], "notified_by_police": r["notified_by_police"],
            "police_notification_count": len(notifications),
            "police_risk_level": max((n.risk_level for n in notifications), key=RISK_ORDER.get) if notifications else None,
            "is_rhi_measurable": rhi_measurable,
        }
        # docs/marts.md: without an interview feed the interview columns are null (not measurable).
        row.update({
            "rhi_recorded": bool(found),
            "rhi_recorded_by_council": any(x[2] == "COUNCIL" for x in found),
            "rhi_returned_by_provider": any(x[2] == "PROVIDER" for x in found),
            "offered_at": offered, "interview_at": interview,
            "conducted_by": first[3] if first else None, "outcome": first[5] if first else None,
            # docs/rules.md: no negative durations in published marts (the flag explains).
            "hours_to_offer": _hours(returned, offered), "hours_to_interview": _hours(returned, interview),
            "offer_status": offer_status, "interview_status": interview_status,
            "offered_within_72h": timely(offer_status), "interviewed_within_72h": timely(interview_status),
            # Flagged when an offer is recorded before the return; false otherwise (no offer, or open).
            "offer_before_return": bool(is_returned and not pd.isna(offered) and offered < returned),
        } if rhi_measurable else dict.fromkeys(RHI_COLUMNS))
        out.append(row)
    frame = pd.DataFrame(out)
    frame.insert(frame.columns.get_loc("returned_at") + 1, "return_month", local_month(frame["returned_at"]))
    return _episode_checks(frame, rows, date_of_birth)


def _hours(returned, later):
    if pd.isna(returned) or pd.isna(later) or later < returned:
        return None
    return round((later - returned).total_seconds() / 3600, 2)


def _episode_checks(frame: pd.DataFrame, rows: dict, date_of_birth: dict) -> pd.DataFrame:
    """The DfE 903 validator's episode checks (docs/marts.md), on council episodes (false on
    police-only ones): overlapping another episode of the child, starting before birth. DECISION:
    two records of one absence are one episode (docs/rules.md), so they no longer overlap each other."""
    overlaps, before_birth = [], []
    council = [r for r in rows.values() if r["recorded_by_council"]]
    spans = defaultdict(list)
    for r in council:
        spans[r["person_id"]].append((r["missing_start_at"], r["returned_at"] if not pd.isna(r["returned_at"]) else FAR,
                                      r["episode"]))
    for r in frame.itertuples(index=False):
        source = rows[r.episode]
        if not source["recorded_by_council"]:
            overlaps.append(False)
            before_birth.append(False)
            continue
        start, end = source["missing_start_at"], source["returned_at"] if not pd.isna(source["returned_at"]) else FAR
        overlaps.append(any(s < end and start < e for s, e, other in spans[source["person_id"]] if other != r.episode))
        born = date_of_birth.get(source["person_id"])
        before_birth.append(bool(born and start.tz_convert("Europe/London").date() < born))
    return frame.assign(overlaps_another_episode=overlaps, starts_before_birth=before_birth)
