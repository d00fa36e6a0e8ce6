"""The Children in Need census (the DfE's CIN census XML), as feeds.

The census is one XML file per council and year::

    Message
      Header / CollectionDetails (Collection CIN, Year, ReferenceDate), Source (LEA, ...)
      Children / Child (one per child)
        ChildIdentifiers      LAchildID, UPN, PersonBirthDate, ExpectedPersonBirthDate,
                              GenderCurrent (Sex from the 2024-25 collection), PersonDeathDate
        ChildCharacteristics  Ethnicity, Disabilities/Disability
        CINdetails (1..n)     CINreferralDate, ReferralSource, PrimaryNeedCode, CINclosureDate,
                              ReasonForClosure, DateOfInitialCPC, ReferralNFA, and inside it:
          Assessments (0..n)          AssessmentActualStartDate, AssessmentInternalReviewDate,
                                      AssessmentAuthorisationDate,
                                      FactorsIdentifiedAtAssessment/AssessmentFactors (0..n)
          CINPlanDates (0..n)         CINPlanStartDate, CINPlanEndDate
          Section47 (0..n)            S47ActualStartDate, InitialCPCtarget, DateOfInitialCPC,
                                      ICPCnotRequired
          ChildProtectionPlans (0..n) CPPstartDate, CPPendDate, InitialCategoryOfAbuse,
                                      LatestCategoryOfAbuse, NumberOfPreviousCPP,
                                      Reviews/CPPreviewDate (0..n)

Sources for that layout, element names and codes: the DfE's CIN census schema as published
with SocialFinanceDigitalLabs/liia-tools (liiatools/cin_census_pipeline/spec/CIN_schema_2024.xsd:
dates xs:date, flags "yesnotype" = true/false/TRUE/FALSE/0/1, NumberOfPreviousCPP a positive
integer), and data-to-insight/csc-validator-be-cin (cin_validator/ingress.py: the table per block
and the generated CINdetailsID/CPPID, numbered from 1 within their parent; fake_data/CIN_Census_2026.xml
shows ``Sex`` replacing ``GenderCurrent``).

How it becomes feeds:

* ``convert`` streams the XML (``XMLPullParser``, fed a line at a time so every block knows the
  line it starts on; each Child is cleared once written: memory stays flat whatever the file
  size) into one CSV per table, in the landing folder. A file that is not well-formed XML is
  rejected with its line and column. A missing element is written as an empty value, so the
  loader's row checks quarantine that row and the rest loads; the ``xml_line`` column of every
  row names the line of its block in the XML, so a quarantined row can be found there.
* The census has no ids below the child: each block gets its position within its parent
  (``CINdetailsID`` 1, 2, ... within the child; ``AssessmentID``, ``Section47ID``, ``CPPID``,
  ``CINPlanID`` within the CINdetails; ``CPPreviewID`` within the plan), as the DfE's own
  validator numbers them. With LAchildID they make each table's key.
* Values are kept as the census writes them: ISO dates (type DATE) and the census's own flag
  codes (true/false/TRUE/FALSE/1/0, declared as codes, so anything else is quarantined). The
  mappings turn flags into the nightly feeds' Y/N.
* ``MAPPINGS`` fill crs__people, crs__referrals, crs__cin_episodes, crs__assessments,
  crs__s47_enquiries, crs__icpcs and crs__cp_plans for the collection date (31 March).
  What the census cannot carry over is in each mapping's ``note`` and docs/returns.md.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from .. import feeds
from ..code_lists import CENSUS_BOOLEANS
from ..feeds import CODE, DATE, NUMBER, TEXT, Column, Feed
from ..load import RejectedFile
from . import Mapping, StatutoryReturn, mapping_sql, origins

SOURCE = "cin_census"
# How much of a file ``is_cin_census_xml`` reads to recognise one.
SNIFF_BYTES = 64 * 1024


def _column(name: str, description: str, type: str = TEXT, *, required: bool = True,
            codes: tuple[str, ...] = ()) -> Column:
    return Column(name, description, type, required, codes, f"CIN {name}")


def _seq(name: str, what: str) -> Column:
    return Column(name, f"Position of the {what} block within its parent (1, 2, ...): generated, the census has no id",
                  NUMBER, True, (), "generated, as the DfE CIN validator numbers it")


LA_CHILD_ID = _column("LAchildID", "The council's child id (the same in every table)")
CIN_DETAILS_ID = _seq("CINdetailsID", "CINdetails")
XML_LINE = Column("xml_line", "Line of the XML file where the row's block starts (to find a quarantined row)",
                  TEXT, False)

CHILDREN = Feed(
    source=SOURCE, name="children", key=("LAchildID",), file_name="cin_census_children.csv",
    description="CIN census ChildIdentifiers and ChildCharacteristics: one row per child in the census.",
    columns=(
        LA_CHILD_ID,
        _column("UPN", "Unique pupil number", required=False),
        _column("PersonBirthDate", "Date of birth; empty for an unborn child", DATE, required=False),
        _column("ExpectedPersonBirthDate", "Expected date of birth of an unborn child", DATE, required=False),
        # Not required here: from the 2024-25 collection the census writes Sex instead (the DfE
        # validator's rule 4180). The crs__people mapping needs one of the two, so a child with
        # neither is quarantined there.
        _column("GenderCurrent", "1 male, 2 female, 0 not recorded or unborn, 9 indeterminate (census to 2023-24)",
                CODE, required=False, codes=feeds.GENDERS),
        _column("Sex", "Sex as the census writes it from 2024-25: M male, F female, U (1 and 2 are read too)",
                required=False),
        _column("PersonDeathDate", "Date of death", DATE, required=False),
        _column("Ethnicity", "Ethnic group", CODE, codes=feeds.ETHNICITIES),
        _column("Disabilities", "Disability codes, space-separated (NONE if none)", required=False),
        XML_LINE,
    ),
)

CIN_DETAILS = Feed(
    source=SOURCE, name="cin_details", key=("LAchildID", "CINdetailsID"), file_name="cin_census_cin_details.csv",
    start_end=("CINreferralDate", "CINclosureDate"),
    description="CIN census CINdetails: one row per episode of need, from its referral to its closure.",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _column("CINreferralDate", "Date of the referral that started the episode", DATE),
        _column("ReferralSource", "Who referred", CODE, codes=feeds.REFERRAL_SOURCES),
        _column("PrimaryNeedCode", "Primary need", CODE, required=False, codes=feeds.PRIMARY_NEEDS),
        _column("CINclosureDate", "Date the episode closed; empty while open", DATE, required=False),
        _column("ReasonForClosure", "Reason for closure; empty while open", CODE, required=False,
                codes=feeds.CIN_CLOSURE_REASONS),
        _column("DateOfInitialCPC", "Date of an initial child protection conference in the episode", DATE,
                required=False),
        _column("ReferralNFA", "Whether the referral ended in no further action (true/false/1/0)", CODE,
                codes=CENSUS_BOOLEANS),
        XML_LINE,
    ),
)

ASSESSMENTS = Feed(
    source=SOURCE, name="assessments", key=("LAchildID", "CINdetailsID", "AssessmentID"),
    file_name="cin_census_assessments.csv", start_end=("AssessmentActualStartDate", "AssessmentAuthorisationDate"),
    description="CIN census Assessments: one row per assessment (its factors in one column).",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _seq("AssessmentID", "Assessments"),
        _column("AssessmentActualStartDate", "Date the assessment started", DATE),
        _column("AssessmentInternalReviewDate", "Date of the internal review", DATE, required=False),
        _column("AssessmentAuthorisationDate", "Date the assessment was authorised; empty while open", DATE,
                required=False),
        _column("AssessmentFactors", "Factors identified at assessment, space-separated codes", required=False),
        XML_LINE,
    ),
)

CIN_PLANS = Feed(
    source=SOURCE, name="cin_plans", key=("LAchildID", "CINdetailsID", "CINPlanID"),
    file_name="cin_census_cin_plans.csv", start_end=("CINPlanStartDate", "CINPlanEndDate"),
    description="CIN census CINPlanDates: one row per child in need plan.",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _seq("CINPlanID", "CINPlanDates"),
        _column("CINPlanStartDate", "Date the plan started", DATE),
        _column("CINPlanEndDate", "Date the plan ended; empty while open", DATE, required=False),
        XML_LINE,
    ),
)

SECTION47S = Feed(
    source=SOURCE, name="section47s", key=("LAchildID", "CINdetailsID", "Section47ID"),
    file_name="cin_census_section47s.csv",
    description="CIN census Section47: one row per section 47 enquiry.",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _seq("Section47ID", "Section47"),
        _column("S47ActualStartDate", "Date of the strategy discussion that started the enquiry", DATE),
        _column("InitialCPCtarget", "Date the initial child protection conference was due", DATE, required=False),
        _column("DateOfInitialCPC", "Date of the initial child protection conference; empty if none", DATE,
                required=False),
        _column("ICPCnotRequired", "Whether the enquiry concluded no conference was needed (true/false/1/0)", CODE,
                codes=CENSUS_BOOLEANS),
        XML_LINE,
    ),
)

CP_PLANS = Feed(
    source=SOURCE, name="cp_plans", key=("LAchildID", "CINdetailsID", "CPPID"), file_name="cin_census_cp_plans.csv",
    start_end=("CPPstartDate", "CPPendDate"),
    description="CIN census ChildProtectionPlans: one row per child protection plan.",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _seq("CPPID", "ChildProtectionPlans"),
        _column("CPPstartDate", "Date the plan started", DATE),
        _column("CPPendDate", "Date the plan ended; empty while open", DATE, required=False),
        _column("InitialCategoryOfAbuse", "Initial category of abuse", CODE, codes=feeds.CP_CATEGORIES),
        _column("LatestCategoryOfAbuse", "Latest category of abuse", CODE, codes=feeds.CP_CATEGORIES),
        _column("NumberOfPreviousCPP", "Number of previous child protection plans", NUMBER),
        XML_LINE,
    ),
)

CP_REVIEWS = Feed(
    source=SOURCE, name="cp_reviews", key=("LAchildID", "CINdetailsID", "CPPID", "CPPreviewID"),
    file_name="cin_census_cp_reviews.csv",
    description="CIN census ChildProtectionPlans/Reviews: one row per child protection review.",
    columns=(
        LA_CHILD_ID,
        CIN_DETAILS_ID,
        _seq("CPPID", "ChildProtectionPlans"),
        _seq("CPPreviewID", "CPPreviewDate"),
        _column("CPPreviewDate", "Date of the review", DATE),
        XML_LINE,
    ),
)

FEEDS: tuple[Feed, ...] = (CHILDREN, CIN_DETAILS, ASSESSMENTS, CIN_PLANS, SECTION47S, CP_PLANS, CP_REVIEWS)


# --- the converter --------------------------------------------------------------------------


def is_cin_census_xml(path: Path) -> bool:
    """A CIN census file: XML whose first few KB have a ``Message`` root with a Child holding CINdetails
    (or a Header whose Collection is CIN). Read by content, not by name: councils name files freely."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    if "<Message" not in head:
        return False
    return "<CINdetails" in head or "<Collection>CIN</Collection>" in head.replace(" ", "")


def _text(element: ET.Element | None, tag: str) -> str:
    """The stripped text of the first ``tag`` under ``element``, or '' when absent."""
    if element is None:
        return ""
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""


def _texts(element: ET.Element | None, path: str) -> str:
    """Every ``path`` element's text, space-separated (repeating codes such as AssessmentFactors)."""
    if element is None:
        return ""
    return " ".join((e.text or "").strip() for e in element.findall(path) if (e.text or "").strip())


# The XML line each element starts on, set on the element while parsing (a namespaced name no census uses).
LINE_ATTRIBUTE = "{urn:safeguarding-warehouse}line"


def _line(element: ET.Element) -> str:
    return element.get(LINE_ATTRIBUTE, "")


def _child_rows(child: ET.Element) -> Iterator[tuple[Feed, list[str]]]:
    """The rows of one Child block, table by table, in document order."""
    identifiers = child.find("ChildIdentifiers")
    characteristics = child.find("ChildCharacteristics")
    la_child_id = _text(identifiers, "LAchildID")
    yield CHILDREN, [
        la_child_id, _text(identifiers, "UPN"), _text(identifiers, "PersonBirthDate"),
        _text(identifiers, "ExpectedPersonBirthDate"), _text(identifiers, "GenderCurrent"), _text(identifiers, "Sex"),
        _text(identifiers, "PersonDeathDate"), _text(characteristics, "Ethnicity"),
        _texts(characteristics, "Disabilities/Disability"), _line(child)]
    for cin_id, cin in enumerate(child.findall("CINdetails"), start=1):
        yield CIN_DETAILS, [
            la_child_id, str(cin_id), _text(cin, "CINreferralDate"), _text(cin, "ReferralSource"),
            _text(cin, "PrimaryNeedCode"), _text(cin, "CINclosureDate"), _text(cin, "ReasonForClosure"),
            _text(cin, "DateOfInitialCPC"), _text(cin, "ReferralNFA"), _line(cin)]
        for n, block in enumerate(cin.findall("Assessments"), start=1):
            yield ASSESSMENTS, [
                la_child_id, str(cin_id), str(n), _text(block, "AssessmentActualStartDate"),
                _text(block, "AssessmentInternalReviewDate"), _text(block, "AssessmentAuthorisationDate"),
                _texts(block, "FactorsIdentifiedAtAssessment/AssessmentFactors"), _line(block)]
        for n, block in enumerate(cin.findall("CINPlanDates"), start=1):
            yield CIN_PLANS, [la_child_id, str(cin_id), str(n), _text(block, "CINPlanStartDate"),
                              _text(block, "CINPlanEndDate"), _line(block)]
        for n, block in enumerate(cin.findall("Section47"), start=1):
            yield SECTION47S, [
                la_child_id, str(cin_id), str(n), _text(block, "S47ActualStartDate"), _text(block, "InitialCPCtarget"),
                _text(block, "DateOfInitialCPC"), _text(block, "ICPCnotRequired"), _line(block)]
        for plan_id, plan in enumerate(cin.findall("ChildProtectionPlans"), start=1):
            yield CP_PLANS, [
                la_child_id, str(cin_id), str(plan_id), _text(plan, "CPPstartDate"), _text(plan, "CPPendDate"),
                _text(plan, "InitialCategoryOfAbuse"), _text(plan, "LatestCategoryOfAbuse"),
                _text(plan, "NumberOfPreviousCPP"), _line(plan)]
            for n, review in enumerate(plan.findall("Reviews/CPPreviewDate"), start=1):
                yield CP_REVIEWS, [la_child_id, str(cin_id), str(plan_id), str(n), (review.text or "").strip(),
                                   _line(review)]


def _rejected(path: Path, where_and_why: str) -> RejectedFile:
    """A RejectedFile whose message starts with the file (and carries it as ``path``, for the manifest)."""
    error = RejectedFile(f"{path}: {where_and_why}")
    error.path = str(path)
    return error


def _children(path: Path) -> Iterator[ET.Element]:
    """Each complete Child element of the file, in order; dropped from the tree once the caller is done.

    The file is fed to the parser a line at a time, so the line a block starts on is known when
    its start tag is read (kept on the element, for the ``xml_line`` column).
    """
    if Path(path).stat().st_size == 0:
        raise _rejected(path, "line 1, column 1: the file is empty")
    parser = ET.XMLPullParser(events=("start", "end"))
    stack: list[ET.Element] = []  # the open elements, root first
    try:
        with Path(path).open("rb") as fh:
            for line_number, line in enumerate(fh, start=1):
                parser.feed(line)
                for event, element in parser.read_events():
                    if event == "start":
                        element.set(LINE_ATTRIBUTE, str(line_number))
                        if not stack and element.tag != "Message":
                            raise _rejected(path, f"line {line_number}: not a CIN census: the root element is "
                                                  f"<{element.tag}>, expected <Message>")
                        stack.append(element)
                        continue
                    stack.pop()
                    if element.tag == "Child" and len(stack) == 2 and stack[-1].tag == "Children":
                        yield element
                        stack[-1].remove(element)  # constant memory: the Child is written, drop it
            parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        # ParseError counts columns from 0; editors (and our other errors) from 1.
        reason = str(exc).split(": line ")[0]  # expat's message without its own position
        raise _rejected(path, f"line {line}, column {column + 1}: not well-formed XML ({reason}). "
                              "Ask the sender to export the CIN census again.") from None


def convert(path: Path, landing: Path) -> dict[str, Path]:
    """Write one CSV per census table into ``landing``; returns {feed id: CSV path} for every table.

    Tables with no rows are written too (a header only): ``collect`` decides what to load.
    """
    path, landing = Path(path), Path(landing)
    landing.mkdir(parents=True, exist_ok=True)
    outputs = {feed.id: landing / feed.file_name for feed in FEEDS}
    handles = {feed_id: p.open("w", encoding="utf-8", newline="") for feed_id, p in outputs.items()}
    try:
        writers = {feed_id: csv.writer(fh, lineterminator="\n") for feed_id, fh in handles.items()}
        for feed in FEEDS:
            writers[feed.id].writerow(c.label for c in feed.columns)  # the DfE's names
        lines: dict[str, list[int]] = {feed.id: [] for feed in FEEDS}  # each row's xml_line (origins.py)
        for child in _children(path):
            for feed, row in _child_rows(child):
                writers[feed.id].writerow(row)
                lines[feed.id].append(int(row[-1] or 0))
    except BaseException:
        for fh in handles.values():
            fh.close()
        for p in outputs.values():  # leave no half-written CSVs for anyone to load
            p.unlink(missing_ok=True)
        raise
    for fh in handles.values():
        fh.close()
    for feed_id, csv_path in outputs.items():
        origins.write(csv_path, path, lines[feed_id], origins.LINE)
    return outputs


def _has_rows(csv_path: Path) -> bool:
    with csv_path.open("rb") as fh:
        fh.readline()
        return bool(fh.readline().strip())


def collect(folder: Path, landing: Path) -> dict[str, Path]:
    """The CIN census XML in the folder (recognised by content), converted to CSVs in ``landing``.

    Tables the census has no rows for (no child protection reviews this year, say) are not
    returned: the loader rejects an empty snapshot, and an empty table is not a broken export here.
    Two census files in one folder are refused: which one is the year's return would be a guess.
    """
    candidates = [p for p in sorted(Path(folder).iterdir())
                  if p.is_file() and p.suffix.lower() == ".xml" and is_cin_census_xml(p)]
    if not candidates:
        return {}
    if len(candidates) > 1:
        raise _rejected(candidates[1], f"line 1: more than one CIN census file in {folder} "
                                       f"({', '.join(p.name for p in candidates)}); hand over one census per year")
    written = convert(candidates[0], landing)
    return {feed_id: p for feed_id, p in written.items() if _has_rows(p)}


# --- mappings into the nightly feeds --------------------------------------------------------
# Every mapping but people's reads cin_details first: the importer runs a mapping when its first
# table was loaded, and every census has CINdetails. So a census with no child protection plans
# gives an empty crs__cp_plans batch for its date (a true zero), not a missing one. The selects are
# the SQL files in mappings/cin_census/.


MAPPINGS: tuple[Mapping, ...] = (
    Mapping(
        target=feeds.CRS_PEOPLE, reads=(CHILDREN, ASSESSMENTS),
        note="No NHS number or postcode. Gender from GenderCurrent, or from Sex (1/M, 2/F, U as 0) in "
             "censuses from 2024-25. The census has no UASC flag: a child is counted as UASC when an assessment identified "
             "factor 9A (concerns as an unaccompanied asylum-seeking child), else N.",
        select=mapping_sql(SOURCE, feeds.CRS_PEOPLE),
    ),
    Mapping(
        target=feeds.CRS_REFERRALS, reads=(CIN_DETAILS,),
        note="One referral per CINdetails block, id = LAchildID/CINdetailsID (its position in the child). "
             "No contacts (the census starts at the referral), no teams.",
        select=mapping_sql(SOURCE, feeds.CRS_REFERRALS),
    ),
    Mapping(
        target=feeds.CRS_CIN_EPISODES, reads=(CIN_DETAILS,),
        note="One episode per CINdetails block (same id as its referral). A block without a PrimaryNeedCode "
             "(allowed by the census, e.g. a referral closed with no further action) gets N0, not stated.",
        select=mapping_sql(SOURCE, feeds.CRS_CIN_EPISODES),
    ),
    Mapping(
        target=feeds.CRS_ASSESSMENTS, reads=(CIN_DETAILS, ASSESSMENTS, CHILDREN),
        note="Id = referral id/A + position. Pre-birth: the child has no date of birth, or was born after the "
             "assessment started. No teams.",
        select=mapping_sql(SOURCE, feeds.CRS_ASSESSMENTS),
    ),
    Mapping(
        target=feeds.CRS_S47_ENQUIRIES, reads=(CIN_DETAILS, SECTION47S),
        note="Id = referral id/S + position. icpc_required = not ICPCnotRequired. The census has no date an "
             "enquiry concluded: outcome_date is the conference date when one was held; for an enquiry that "
             "concluded no conference was needed, the episode's closure date or else the census date (31 March), "
             "an upper bound; empty when a conference is needed but not yet held.",
        select=mapping_sql(SOURCE, feeds.CRS_S47_ENQUIRIES),
    ),
    Mapping(
        target=feeds.CRS_ICPCS, reads=(CIN_DETAILS, SECTION47S, CP_PLANS),
        note="One conference per Section47 with a DateOfInitialCPC (id = its s47 id/ICPC), plus one per "
             "CINdetails whose own DateOfInitialCPC no Section47 of that episode holds (id = referral id/ICPC, "
             "no s47). cp_plan_required: a child protection plan of the child started on the conference date.",
        select=mapping_sql(SOURCE, feeds.CRS_ICPCS),
    ),
    Mapping(
        target=feeds.CRS_CP_PLANS, reads=(CIN_DETAILS, CP_PLANS, SECTION47S),
        note="Id = referral id/P + CPPID. icpc_id: the conference of the same episode held on the plan's start "
             "date, if the census has one. Latest category, previous plans and reviews stay in the census tables.",
        select=mapping_sql(SOURCE, feeds.CRS_CP_PLANS),
    ),
)


CIN_CENSUS = StatutoryReturn(
    name=SOURCE,
    title="Children in Need census",
    description="The DfE's annual CIN census (XML): children in need, referrals, assessments, section 47 "
                "enquiries and child protection plans.",
    feeds=FEEDS,
    mappings=MAPPINGS,
    collect=collect,
)
