"""Generate the small fake CIN census used by tests (generated data, no real child).

Scenarios by child number: 1, 5, 12 open episodes; 2, 11 referrals ended in NFA; 4 a repeat
child protection plan (two episodes, the second with NumberOfPreviousCPP 1); 6, 13 s47 with no
ICPC needed; 9 ICPC held, no plan; 7 unborn; 8 UASC assessment factor 9A; 3, 10 two episodes;
14 a conference on the episode with no Section47 block (transferred in); 12 an open assessment.

    python tests/data/returns/cin_census/make_fake_census.py > tests/data/returns/cin_census/valid/CIN_Census_2018.xml

malformed/ is that file with three mistakes: FAKE0002's PersonBirthDate written dd/mm/yyyy,
FAKE0005's ReferralSource 99 (no such code), FAKE0009's LAchildID line deleted.
truncated/ is its first 300 lines and 10 characters of line 301.
"""
import random
from datetime import date, timedelta
from xml.sax.saxutils import escape

rng = random.Random(20180331)
CENSUS_DATE = date(2018, 3, 31)
ETH = ["WBRI", "WOTH", "MWBC", "AIND", "BAFR", "BCRB", "OOTH", "CHNE", "NOBT"]
SRC = ["1A", "2A", "3A", "3B", "5A", "6", "8", "10"]
NEED = ["N1", "N2", "N3", "N4", "N5", "N6", "N8"]
CAT = ["NEG", "PHY", "EMO", "SAB", "MUL"]
DAY = timedelta(days=1)


def el(tag, value, ind):
    return f"{' ' * ind}<{tag}>{escape(value if isinstance(value, str) else value.isoformat())}</{tag}>"


def child_xml(i):
    ind = 12
    lines = [" " * 8 + "<Child>", " " * ind + "<ChildIdentifiers>", el("LAchildID", f"FAKE{i:04d}", ind + 4)]
    unborn = i == 7
    if i % 3 == 0:
        lines.append(el("UPN", f"A{rng.randrange(10**11, 10**12)}1", ind + 4))
    if unborn:
        lines.append(el("ExpectedPersonBirthDate", "2018-06-15", ind + 4))
    else:
        lines.append(el("PersonBirthDate", date(2003, 1, 1) + rng.randrange(0, 5000) * DAY, ind + 4))
    lines.append(el("GenderCurrent", "0" if unborn else str(1 + i % 2), ind + 4))
    lines += [" " * ind + "</ChildIdentifiers>", " " * ind + "<ChildCharacteristics>", el("Ethnicity", ETH[i % len(ETH)], ind + 4)]
    if i % 4 == 0:
        lines += [" " * (ind + 4) + "<Disabilities>", el("Disability", "NONE" if i % 8 else "LD", ind + 8),
                  " " * (ind + 4) + "</Disabilities>"]
    lines.append(" " * ind + "</ChildCharacteristics>")
    ref = date(2017, 4, 3) + rng.randrange(0, 120) * DAY
    episodes = 2 if i in (3, 4, 10) else 1
    for e in range(episodes):
        block, closed = cin_xml(i, e, ref, e < episodes - 1, ind)
        lines += block
        ref = (closed or ref) + rng.randrange(10, 30) * DAY
    lines.append(" " * 8 + "</Child>")
    return lines


def cin_xml(i, e, ref, must_close, ind):
    I, A = ind + 4, ind + 8
    nfa = i in (2, 11)
    s47 = (i in (5, 6, 8, 9, 13) or (i in (4, 10) and e == 1) or (i == 4 and e == 0))
    icpc = s47 and i not in (6, 13)
    cpp = icpc and i != 9
    transfer_in = i == 14
    out = [" " * ind + "<CINdetails>", el("CINreferralDate", ref, I), el("ReferralSource", SRC[(i + e) % len(SRC)], I)]
    if not nfa:
        out.append(el("PrimaryNeedCode", NEED[i % len(NEED)], I))
    s47_start, icpc_date = ref + 2 * DAY, ref + (12 + i % 6) * DAY
    if transfer_in:
        icpc_date = ref + 5 * DAY
    plan = None
    if cpp or transfer_in:
        end = icpc_date + 120 * DAY
        plan = (icpc_date, end if (must_close or i not in (5, 14)) and end <= CENSUS_DATE else None)
    auth = ref + (20 + i * 2) * DAY
    last = max([auth] + [d for d in (plan or ()) if d])
    close = ref + 3 * DAY if nfa else last + rng.randrange(5, 30) * DAY
    is_open = not must_close and (i in (1, 5, 12, 14) or close > CENSUS_DATE or (plan and plan[1] is None))
    if not is_open:
        out += [el("CINclosureDate", close, I), el("ReasonForClosure", "RC8" if nfa else "RC7", I)]
    if icpc or transfer_in:
        out.append(el("DateOfInitialCPC", icpc_date, I))
    if not nfa:
        out += [" " * I + "<Assessments>", el("AssessmentActualStartDate", ref + DAY, A)]
        if i != 12:
            out.append(el("AssessmentAuthorisationDate", auth, A))
        factors = ["9A"] if i == 8 else ["3A", "4B"] if i % 2 else ["21"]
        out += [" " * A + "<FactorsIdentifiedAtAssessment>", *[el("AssessmentFactors", f, A + 4) for f in factors],
                " " * A + "</FactorsIdentifiedAtAssessment>", " " * I + "</Assessments>"]
        if i % 5 == 1:  # a second assessment in the episode, still open
            out += [" " * I + "<Assessments>", el("AssessmentActualStartDate", ref + 30 * DAY, A), " " * I + "</Assessments>"]
    if i in (1, 12, 16):
        out += [" " * I + "<CINPlanDates>", el("CINPlanStartDate", auth + DAY, A)]
        if i == 16:
            out.append(el("CINPlanEndDate", close, A))
        out.append(" " * I + "</CINPlanDates>")
    if s47:
        out += [" " * I + "<Section47>", el("S47ActualStartDate", s47_start, A),
                el("InitialCPCtarget", s47_start + 14 * DAY, A)]
        if icpc:
            out.append(el("DateOfInitialCPC", icpc_date, A))
        out += [el("ICPCnotRequired", "true" if not icpc else ("0" if i % 2 else "false"), A), " " * I + "</Section47>"]
    out.append(el("ReferralNFA", ("1" if i == 11 else "true") if nfa else ("0" if i % 3 else "false"), I))
    if plan:
        start, end = plan
        out += [" " * I + "<ChildProtectionPlans>", el("CPPstartDate", start, A)]
        if end:
            out.append(el("CPPendDate", end, A))
        out += [el("InitialCategoryOfAbuse", CAT[i % 5], A), el("LatestCategoryOfAbuse", CAT[(i + e) % 5], A),
                el("NumberOfPreviousCPP", str(1 if (i == 4 and e == 1) else 0), A)]
        reviews = [r for r in (start + 90 * k * DAY for k in (1, 2)) if r <= CENSUS_DATE and (not end or r < end)]
        if reviews:
            out += [" " * A + "<Reviews>", *[el("CPPreviewDate", r, A + 4) for r in reviews], " " * A + "</Reviews>"]
        out.append(" " * I + "</ChildProtectionPlans>")
    out.append(" " * ind + "</CINdetails>")
    return out, (None if is_open else close)


HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
    <Header>
        <CollectionDetails>
            <Collection>CIN</Collection>
            <Year>2018</Year>
            <ReferenceDate>2018-03-31</ReferenceDate>
        </CollectionDetails>
        <Source>
            <SourceLevel>L</SourceLevel>
            <LEA>999</LEA>
            <SoftwareCode>Fake case recording system</SoftwareCode>
            <Release>1.0</Release>
            <SerialNo>001</SerialNo>
            <DateTime>2018-05-01T09:00:00</DateTime>
        </Source>
    </Header>
    <Children>"""
lines = [HEADER]
for n in range(1, 17):
    lines += child_xml(n)
print("\n".join(lines) + "\n    </Children>\n</Message>\n", end="")
