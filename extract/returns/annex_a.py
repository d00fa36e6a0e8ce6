"""Ofsted's Annex A workbook (lists 1 to 11), as feeds.

Before an inspection of local authority children's services (ILACS), Ofsted asks the
council for the Annex A child-level lists: one Excel workbook, one sheet per list.

    List 1  contacts                       List 7  child protection (plans)
    List 2  early help (assessments)       List 8  children in care
    List 3  referrals                      List 9  care leavers
    List 4  assessments                    List 10 adoption (children)
    List 5  section 47 enquiries and ICPCs List 11 adopters
    List 6  children in need

Source for the list numbering and the column headings: the Annex A layout in
SocialFinanceDigitalLabs/liia-tools, liiatools/annex_a_pipeline/spec/Annex_A_schema.yml
(the London Innovation and Improvement Alliance's Annex A cleaner; its headings are those
of Ofsted's Annex A template since the ILACS framework of 2018, "Inspecting local authority
children's services", gov.uk, updated 2024), where each heading is listed with the
descriptive values the workbook uses ("a) Male", "c) 1C: Individual", "N1 - Abuse or
neglect", "E1: Placement order", ...).

How it becomes feeds:

* ``convert`` streams each list sheet (openpyxl, read-only, cached values) into one CSV in
  the landing folder, named after the workbook and the sheet (``Annex A 2024 - List 3 -
  Referrals.csv``), so a loader message names the sheet. Sheets are recognised by name,
  leniently: "List 1", "List 1 - Contacts", "LIST 01 contacts" are all list 1.
* Column names are the workbook's headings normalised to snake_case (lower case, the
  apostrophes dropped, every run of other characters an underscore: "Date of Contact" is
  ``date_of_contact``, "Child's Legal Status" ``childs_legal_status``), shortened where the
  heading is longer than PostgreSQL's 63-character names allow (``name=`` below). The child
  id heading ("Child Unique ID", or any heading naming child and id) is ``person_id``.
  Headings are matched after the same normalisation, so capitals, spaces and punctuation
  do not matter. Headings the list does not declare (a council's own extra columns) are
  left out. A declared optional column the sheet lacks is written empty; a *required* one
  the sheet lacks is left out of the CSV's header, so the loader rejects that list's file
  with "missing column(s) ..." naming the sheet's CSV, and the other lists still load.
* Dates arrive as Excel dates or as dd/mm/yyyy text: both are written as dd/mm/yyyy and
  declared ``DATE_DMY``. A value that is no date (``2018-13-45``) is written as delivered, so
  the loader quarantines its row with the reason. Descriptive values ("a) Male") are kept as
  delivered in these feeds; the mappings translate them into the nightly code lists, and a
  value they do not recognise is passed on as delivered, so the nightly feed's row checks
  quarantine it ("unknown code").
* ``sheet_row`` (every list) is the row's number in the workbook: a quarantined row shows it.
  The mapped nightly rows carry it too (their lineage reads ``<csv> row <sheet row>``).
* Annex A has no record ids: each mapped row's id is the child id and the list's date
  (``C123/2018-03-12``), the form the SSDA903 mapping uses for looked-after episodes, so a
  period of care the 903 already gave is not taken again from list 8 (the first return wins).

What Annex A cannot carry over is in each mapping's ``note`` and in docs/returns.md.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .. import feeds
from ..code_lists import ACCOMMODATION_KINDS
from ..feeds import DATE_DMY, NUMBER, TEXT, Column, Feed
from ..load import RejectedFile
from . import Mapping, StatutoryReturn, iso_date, origins, this_night

log = logging.getLogger(__name__)

SOURCE = "annex_a"
# PostgreSQL allows 63 characters, but Great Expectations' SQL labels columns with a suffix and
# SQLAlchemy cuts labels past 63, which breaks its checks on longer names: keep them short.
MAX_NAME = 45
HEADING_SEARCH_ROWS = 10  # the heading row is among the first rows of a sheet (a title row may come first)


def snake_case(heading: str) -> str:
    """A workbook heading as a column name: "Child's Legal Status" -> childs_legal_status."""
    text = re.sub(r"['\u2018\u2019`]", "", str(heading).lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


@dataclass(frozen=True)
class Heading:
    """One column of a list as the workbook heads it, and its column in the feed."""

    text: str  # the heading as Ofsted's template writes it
    type: str = TEXT
    required: bool = False
    name: str = ""  # the column name when the heading's snake_case is too long
    aliases: tuple[str, ...] = ()  # other headings seen for it (matched after snake_case)

    @property
    def column_name(self) -> str:
        return self.name or snake_case(self.text)

    def matches(self, normalised: str) -> bool:
        return normalised in {snake_case(self.text), self.column_name, *map(snake_case, self.aliases)}


def _is_child_id(normalised: str) -> bool:
    """"Child Unique ID", "Child ID", "Unique child identifier", ...: a heading naming child and id."""
    words = normalised.split("_")
    return "child" in words and ("id" in words or "identifier" in words)


CHILD_ID = Heading("Child Unique ID", required=True, name="person_id")
GENDER = Heading("Gender", required=True)
ETHNICITY = Heading("Ethnicity")
DATE_OF_BIRTH = Heading("Date of Birth", DATE_DMY, aliases=("DOB",))
AGE = Heading("Age of Child (Years)", NUMBER, aliases=("Age",))
DISABILITY = Heading("Does the Child have a Disability")
TEAM = Heading("Allocated Team")
WORKER = Heading("Allocated Worker")
CHILD = (CHILD_ID, GENDER, ETHNICITY, DATE_OF_BIRTH, AGE)


@dataclass(frozen=True)
class AnnexList:
    number: int
    name: str  # the feed's name
    title: str
    key: tuple[str, ...]
    headings: tuple[Heading, ...]

    @property
    def feed(self) -> Feed:
        return FEEDS_BY_LIST[self.number]


LISTS: tuple[AnnexList, ...] = (
    AnnexList(1, "list_1_contacts", "contacts", ("person_id", "date_of_contact"), CHILD + (
        Heading("Date of Contact", DATE_DMY, required=True),
        Heading("Contact Source", required=True),
    )),
    AnnexList(2, "list_2_early_help", "early help assessments", ("person_id", "assessment_start_date"), CHILD + (
        Heading("Assessment start date", DATE_DMY, required=True),
        Heading("Assessment completion date", DATE_DMY),
        Heading("Organisation completing assessment"),
    )),
    AnnexList(3, "list_3_referrals", "referrals", ("person_id", "date_of_referral"), CHILD + (
        Heading("Date of referral", DATE_DMY, required=True),
        Heading("Referral Source", required=True),
        Heading("Referral NFA?", required=True),
        Heading("Number of Referrals in Last 12 Months", NUMBER),
        TEAM, WORKER,
    )),
    AnnexList(4, "list_4_assessments", "assessments", ("person_id", "continuous_assessment_start_date"), CHILD + (
        DISABILITY,
        Heading("Continuous Assessment Start Date", DATE_DMY, required=True),
        Heading("Child Seen During Continuous Assessment"),
        Heading("Continuous Assessment Date of Authorisation", DATE_DMY),
        Heading("Was the child assessed as requiring LA children's social care support?",
                name="assessed_as_requiring_social_care_support"),
        TEAM, WORKER,
    )),
    AnnexList(5, "list_5_section_47", "section 47 enquiries and ICPCs",
              ("person_id", "s47_strategy_discussion_date"), CHILD + (
        DISABILITY,
        Heading("Strategy discussion initiating Section 47 Enquiry Start Date", DATE_DMY, required=True,
                name="s47_strategy_discussion_date"),
        Heading("Was an Initial Child Protection Conference deemed unnecessary?", name="icpc_deemed_unnecessary"),
        Heading("Date of Initial Child Protection Conference", DATE_DMY),
        Heading("Did the Initial Child Protection Conference Result in a Child Protection Plan",
                name="icpc_resulted_in_child_protection_plan"),
        Heading("Number of Section 47 Enquiries in the last 12 months", NUMBER, name="s47_enquiries_in_last_12_months"),
        Heading("Number of ICPCs in the last 12 months", NUMBER),
        TEAM, WORKER,
    )),
    AnnexList(6, "list_6_children_in_need", "children in need", ("person_id", "cin_start_date"), CHILD + (
        DISABILITY,
        Heading("CIN Start Date", DATE_DMY, required=True),
        Heading("Primary Need Code", required=True),
        Heading("Date Child Was Last Seen", DATE_DMY),
        Heading("CIN Closure Date", DATE_DMY),
        Heading("Reason for Closure"),
        Heading("Case Status"),
        TEAM, WORKER,
    )),
    AnnexList(7, "list_7_child_protection", "child protection plans",
              ("person_id", "child_protection_plan_start_date"), CHILD + (
        DISABILITY,
        Heading("Child Protection Plan Start Date", DATE_DMY, required=True),
        Heading("Initial Category of Abuse", required=True),
        Heading("Latest Category of Abuse"),
        Heading("Date of the Last Statutory Visit", DATE_DMY),
        Heading("Was the Child Seen Alone?"),
        Heading("Date of latest review conference", DATE_DMY),
        Heading("Child Protection Plan End Date", DATE_DMY),
        Heading("Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
                name="epo_or_police_protection_last_6_months"),
        Heading("Number of Previous Child Protection Plans", NUMBER),
        TEAM, WORKER,
    )),
    AnnexList(8, "list_8_children_in_care", "children in care", ("person_id", "date_started_to_be_looked_after"),
              CHILD + (
        Heading("Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)",
                name="uasc_within_the_last_12_months"),
        DISABILITY,
        Heading("Date Started to be Looked After", DATE_DMY, required=True),
        Heading("Child's Category of Need"),
        Heading("Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)",
                name="second_period_looked_after_last_12_months"),
        Heading("Start date of current legal status", DATE_DMY),
        Heading("Child's Legal Status", required=True),
        Heading("Date of Latest Statutory Review", DATE_DMY),
        Heading("Date of Last Social Work Visit", DATE_DMY),
        Heading("What is the permanence plan for this child?"),
        Heading("Date of Last IRO Visit / Contact to the Child", DATE_DMY),
        Heading("Date of Last Health Assessment", DATE_DMY),
        Heading("Date of Last Dental Check", DATE_DMY),
        Heading("Number of Placements in the Last 12 months", NUMBER),
        Heading("Date Ceased to be Looked After", DATE_DMY),
        Heading("Reason Ceased to be Looked After"),
        Heading("Start Date of Most Recent Placement", DATE_DMY),
        Heading("Placement Type", required=True),
        Heading("Placement Provider"),
        Heading("Placement postcode"),
        Heading("URN of Placement"),
        Heading("Placement Location"),
        Heading("LA of Placement"),
        Heading("Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months", NUMBER,
                name="missing_episodes_in_the_last_12_months"),
        Heading("Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months", NUMBER,
                name="absent_episodes_in_the_last_12_months"),
        Heading("Was the child offered a Return Interview after their last missing episode (Y/N)?",
                name="offered_rhi_after_last_missing_episode"),
        Heading("Did the child accept a Return Interview after their last missing episode (Y/N)?",
                name="accepted_rhi_after_last_missing_episode"),
        TEAM, WORKER,
    )),
    AnnexList(9, "list_9_care_leavers", "care leavers", ("person_id",), CHILD + (
        Heading("Unaccompanied Asylum Seeking Child (UASC), or formerly UASC if 18 or over (Y/N)",
                name="uasc_or_formerly_uasc"),
        DISABILITY, TEAM, WORKER,
        Heading("Allocated Personal Advisor", aliases=("Allocated Personal Adviser",)),
        Heading("Eligibility Category", required=True),
        Heading("Latest Pathway Plan Review Date", DATE_DMY),
        Heading("LA in Touch"),
        Heading("Latest Date of Contact", DATE_DMY),
        Heading("Type of Accommodation"),
        Heading("Suitability of Accommodation"),
        Heading("Activity Status"),
    )),
    AnnexList(10, "list_10_adoption", "adoption",
              ("person_id", "date_of_decision_to_place_for_adoption"),
              (CHILD_ID, Heading("Family identifier"), GENDER, ETHNICITY, DATE_OF_BIRTH, AGE, DISABILITY,
               Heading("Date the Child Entered Care", DATE_DMY, required=True),
               Heading("Date of Decision that Child Should be Placed for Adoption", DATE_DMY, required=True,
                       name="date_of_decision_to_place_for_adoption"),
               Heading("Date of Placement Order", DATE_DMY),
               Heading("Date of Matching Child and Prospective Adopters", DATE_DMY, name="date_of_matching_with_adopters"),
               Heading("Date Placed for Adoption", DATE_DMY),
               Heading("Date of Adoption Order", DATE_DMY),
               Heading("Date of Decision that Child Should No Longer be Placed for Adoption", DATE_DMY,
                       name="date_of_decision_no_longer_to_place"),
               Heading("Reason Why Child No Longer Placed for Adoption", name="reason_no_longer_placed_for_adoption"),
               Heading("Date the child was placed for fostering in FFA or concurrent planning placement", DATE_DMY,
                       name="date_placed_in_ffa_or_concurrent_placement"))),
    AnnexList(11, "list_11_adopters", "adopters", ("individual_adopter_identifier",), (
        Heading("Individual adopter identifier", required=True),
        Heading("Family identifier"), GENDER, ETHNICITY,
        Heading("Disability"),
        Heading("Is the (prospective) adopter fostering for adoption?",
                name="adopter_is_fostering_for_adoption"),
        Heading("Date enquiry received", DATE_DMY, required=True),
        Heading("Date Stage 1 started", DATE_DMY),
        Heading("Date Stage 1 ended", DATE_DMY),
        Heading("Date Stage 2 started", DATE_DMY),
        Heading("Date Stage 2 ended", DATE_DMY),
        Heading("Date application submitted", DATE_DMY),
        Heading("Date application approved", DATE_DMY),
        Heading("Date adopter matched with child(ren)", DATE_DMY),
        Heading("Date child/children placed with adopter(s)", DATE_DMY),
        Heading("No. of children placed", NUMBER),
        Heading("Date of Adoption Order", DATE_DMY),
        Heading("Date of leaving adoption process", DATE_DMY),
        Heading("Reason for leaving adoption process"),
    )),
)
SHEET_ROW = Column("sheet_row", "The row's number in its workbook sheet, to find a quarantined row there",
                   required=False, standard="(added on conversion)")


def _feed(annex_list: AnnexList) -> Feed:
    columns = []
    for heading in annex_list.headings:
        if len(heading.column_name) > MAX_NAME:
            raise ValueError(f"Annex A list {annex_list.number}: {heading.text!r} needs a shorter name=")
        columns.append(Column(heading.column_name, f"Annex A list {annex_list.number}: {heading.text}", heading.type,
                              heading.required, standard=f"Annex A list {annex_list.number} {heading.text}"))
    return Feed(source=SOURCE, name=annex_list.name, key=annex_list.key, columns=(*columns, SHEET_ROW),
                description=f"Ofsted Annex A list {annex_list.number}: {annex_list.title}, "
                            "one row per row of the sheet.")


FEEDS_BY_LIST: dict[int, Feed] = {annex_list.number: _feed(annex_list) for annex_list in LISTS}
FEEDS: tuple[Feed, ...] = tuple(FEEDS_BY_LIST.values())
LISTS_BY_NUMBER = {annex_list.number: annex_list for annex_list in LISTS}
(CONTACTS, EARLY_HELP, REFERRALS, ASSESSMENTS, SECTION_47, CHILDREN_IN_NEED, CHILD_PROTECTION, CHILDREN_IN_CARE,
 CARE_LEAVERS, ADOPTION, ADOPTERS) = FEEDS

# --- the converter --------------------------------------------------------------------------

# "List 1", "List 1 - Contacts", "LIST 01 contacts", "List_3": the list's number after the word.
SHEET_NAME = re.compile(r"^\s*list\s*[-_.:]?\s*0*(\d{1,2})(?!\d)", re.IGNORECASE)
DMY_TEXT = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
ISO_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
EXCEL_SERIALS = (1, 2958465)  # 1900-01-01 .. 9999-12-31 as Excel day numbers


def _rejected(path: Path, why: str) -> RejectedFile:
    """A RejectedFile whose message starts with the file (and carries it as ``path``, for the manifest)."""
    error = RejectedFile(f"{path}: {why}")
    error.path = str(path)
    return error


def list_number(sheet_title: str) -> int | None:
    """The Annex A list a sheet holds, from its name; None for any other sheet."""
    match = SHEET_NAME.match(sheet_title)
    number = int(match.group(1)) if match else None
    return number if number in LISTS_BY_NUMBER else None


def open_workbook(path: Path):
    """The workbook, read-only and with the values Excel last calculated; RejectedFile if it is none."""
    from openpyxl import load_workbook  # imported here: only an Annex A import needs it

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a zip, not an Office Open XML package, a damaged part...
        raise _rejected(path, f"line 1: not a readable Excel workbook (.xlsx): {type(exc).__name__}: {exc}. "
                              "Save the Annex A as an Excel workbook (.xlsx) and hand it over again") from None


def annex_a_sheets(workbook) -> dict[int, str]:
    """{list number: sheet name} of the workbook's Annex A list sheets (the first sheet of a number)."""
    found: dict[int, str] = {}
    for title in workbook.sheetnames:
        number = list_number(title)
        if number is not None and number not in found:
            found[number] = title
    return found


def date_text(value) -> str:
    """A date cell as dd/mm/yyyy; a value that is no date, as delivered (the loader quarantines it)."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if is_number and EXCEL_SERIALS[0] <= value <= EXCEL_SERIALS[1]:
        from openpyxl.utils.datetime import from_excel  # a date cell without a date format: Excel's day number

        return from_excel(value).strftime("%d/%m/%Y")
    text = str(value).strip()
    dmy = DMY_TEXT.match(text)
    if dmy:  # 1/4/2018 -> 01/04/2018; 31/02/2018 stays as it is and is quarantined
        day, month, year = dmy.groups()
        return f"{int(day):02d}/{int(month):02d}/{year}"
    iso = ISO_TEXT.match(text)
    if iso:
        try:
            return date(*map(int, iso.groups())).strftime("%d/%m/%Y")
        except ValueError:
            return text  # 2018-13-45: no date; written as delivered
    return text


def cell_text(value) -> str:
    """Any other cell as text: whole numbers without ".0", dates as dd/mm/yyyy, one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    return re.sub(r"\s*[\r\n]+\s*", " ", str(value)).strip()


def _match_headings(annex_list: AnnexList, cells: tuple) -> dict[str, int]:
    """{column name: cell index} for the declared columns found in a heading row."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        normalised = snake_case(str(cell))
        for heading in annex_list.headings:
            if heading.matches(normalised) or (heading is CHILD_ID and _is_child_id(normalised)):
                found.setdefault(heading.column_name, index)
                break
    return found


def _safe_file_name(text: str) -> str:
    return re.sub(r"[^\w .()-]+", "_", text).strip() or "sheet"


def convert_sheet(workbook_path: Path, worksheet, annex_list: AnnexList, landing: Path) -> tuple[Path, int]:
    """Stream one list sheet into a CSV in ``landing``. Returns the CSV and its number of data rows.

    The CSV's header is the list's declared columns (optional ones the sheet lacks are written
    empty), minus any required column the sheet lacks: the loader then rejects the file naming it.
    """
    rows = worksheet.iter_rows(values_only=True)
    heading_row, positions, sheet_row = 0, {}, 0
    first_rows = []
    for sheet_row, cells in enumerate(rows, start=1):
        first_rows.append((sheet_row, cells))
        positions = _match_headings(annex_list, cells)
        if len(positions) >= 2 or sheet_row >= HEADING_SEARCH_ROWS:
            heading_row = sheet_row if len(positions) >= 2 else 0
            break
    if not heading_row:  # no row looks like the list's headings: take the first non-empty one
        heading_row, cells = next(((n, c) for n, c in first_rows if any(v not in (None, "") for v in c)), (1, ()))
        positions = _match_headings(annex_list, cells)
    missing_required = [h.column_name for h in annex_list.headings if h.required and h.column_name not in positions]
    columns = [c for c in annex_list.feed.columns if c.name not in missing_required]
    if missing_required:
        log.error("%s, sheet %r: no heading for required column(s) %s", workbook_path, worksheet.title,
                  ", ".join(missing_required))
    out = landing / f"{_safe_file_name(workbook_path.stem)} - {_safe_file_name(worksheet.title)}.csv"
    written, sheet_rows = 0, []
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        for sheet_row, cells in _rows_after(first_rows, rows, heading_row):
            values = []
            for column in columns:
                if column is SHEET_ROW:
                    values.append(str(sheet_row))
                    continue
                index = positions.get(column.name)
                value = cells[index] if index is not None and index < len(cells) else None
                values.append(date_text(value) if column.type == DATE_DMY else cell_text(value))
            if any(v for column, v in zip(columns, values) if column is not SHEET_ROW):
                writer.writerow(values)
                written += 1
                sheet_rows.append(sheet_row)
    origins.write(out, workbook_path, sheet_rows, origins.ROW, sheet=worksheet.title)
    return out, written


def _rows_after(first_rows, rest, heading_row: int):
    """(sheet row, cells) of every row below the heading row: those already read, then the rest."""
    for sheet_row, cells in first_rows:
        if sheet_row > heading_row:
            yield sheet_row, cells
    start = first_rows[-1][0] + 1 if first_rows else 1
    for sheet_row, cells in enumerate(rest, start=start):
        yield sheet_row, cells


def convert(path: Path, landing: Path) -> dict[str, Path]:
    """Every Annex A list sheet of the workbook as a CSV in ``landing``: {feed id: CSV}.

    A list sheet with no rows below its headings is not returned (the loader rejects an empty
    snapshot; an empty list is not a broken export).
    """
    path = Path(path)
    landing.mkdir(parents=True, exist_ok=True)
    workbook = open_workbook(path)
    written: dict[str, Path] = {}
    try:
        for number, title in sorted(annex_a_sheets(workbook).items()):
            annex_list = LISTS_BY_NUMBER[number]
            try:
                csv_path, rows = convert_sheet(path, workbook[title], annex_list, landing)
            except Exception as exc:  # a damaged sheet inside a readable workbook
                raise _rejected(path, f"sheet {title!r}: could not be read: {type(exc).__name__}: {exc}") from None
            if rows:
                written[annex_list.feed.id] = csv_path
            else:
                log.info("%s, sheet %r: no rows; list %s not loaded", path, title, number)
    finally:
        workbook.close()
    return written


def collect(folder: Path, landing: Path) -> dict[str, Path]:
    """The Annex A workbook in the folder (an .xlsx or .xlsm with "List n" sheets), converted to CSVs.

    Any other workbook is ignored; a file named .xlsx that is no workbook is rejected. Two
    workbooks that both hold a list are refused: which one is the year's would be a guess.
    """
    candidates = [p for p in sorted(Path(folder).iterdir()) if p.is_file()
                  and p.suffix.lower() in (".xlsx", ".xlsm") and not p.name.startswith("~$")]  # ~$: Excel's lock file
    annex_a = []
    for path in candidates:
        workbook = open_workbook(path)
        try:
            if annex_a_sheets(workbook):
                annex_a.append(path)
        finally:
            workbook.close()
    if not annex_a:
        return {}
    if len(annex_a) > 1:
        raise _rejected(annex_a[1], f"line 1: more than one Annex A workbook in {folder} "
                                    f"({', '.join(p.name for p in annex_a)}); hand over one workbook per year")
    return convert(annex_a[0], landing)


# --- mappings into the nightly feeds ----------------------------------------------------------
# Each select reads one list for the collection date and writes the nightly feed's columns in
# the nightly formats. Descriptive values become codes by CASE; anything unrecognised is passed
# on as delivered, for the nightly feed's row checks to quarantine.


def _id(alias: str, date_column: str) -> str:
    """The id Annex A lacks: child and date, e.g. C123/2018-03-12 (the form the 903 mapping uses)."""
    return f"{alias}.person_id || '/' || {iso_date(f'{alias}.{date_column}')}"


def _lineage(alias: str) -> str:
    return f"{alias}._source_file, coalesce(nullif({alias}.sheet_row, '')::bigint, {alias}._row_number) as _source_row"


def _code(expression: str, extract: str = "", rules: tuple[tuple[str, str], ...] = (),
          unknown: tuple[str, ...] = ()) -> str:
    """SQL: a descriptive Annex A value as a code of ours.

    ``extract``: a regex (upper case) whose group 1 is a code written inside the value ("c) 1C:
    Individual" -> 1C). ``rules``: (case-insensitive regex, code) tried in order. ``unknown``:
    regexes of values that mean "not known" (written as empty). Else the value as delivered.
    """
    value = f"trim({expression})"
    whens = [f"when nullif({value}, '') is null then ''"]
    whens += [f"when {value} ~* '{pattern}' then ''" for pattern in unknown]
    if extract:
        whens.append(f"when upper({value}) ~ '{extract}' then substring(upper({value}) from '{extract}')")
    whens += [f"when {value} ~* '{pattern}' then '{code}'" for pattern, code in rules]
    return "case " + " ".join(whens) + f" else {value} end"


def _alternatives(codes) -> str:
    return r"\m(" + "|".join(sorted(codes, key=len, reverse=True)) + r")\M"


NOT_KNOWN = (r"^(c\)\s*)?(unknown|not known)$",)
YES = r"^(a\)\s*)?y(es)?$"
NO = r"^(b\)\s*)?no?$"


def _flag(expression: str) -> str:
    """SQL: a yes/no value ("a) Yes", "Y", "No") as Y or N; "c) Unknown" and the rest as delivered."""
    return _code(expression, rules=((YES, "Y"), (NO, "N")))


def _gender(expression: str) -> str:
    # Annex A: a) Male, b) Female, c) Not stated/recorded, d) Neither. CIN: 1 male, 2 female, 0 not known, 9 not stated.
    return _code(expression, rules=(
        (r"^(1|m|a\)|(a\)\s*)?male)$", "1"), (r"^(2|f|b\)|(b\)\s*)?female)$", "2"),
        (r"^(0|unknown|not known)$", "0"),
        (r"^(9|c\)|d\)|(c\)\s*)?not (stated|recorded).*|(d\)\s*)?neither|indeterminate)$", "9")))


ETHNICITY_NAMES = (
    (r"white.*british", "WBRI"), (r"white.*irish", "WIRI"), (r"traveller.*irish", "WIRT"), (r"gypsy|roma", "WROM"),
    (r"other.*white", "WOTH"), (r"white.*black.*caribbean", "MWBC"), (r"white.*black.*african", "MWBA"),
    (r"white.*asian", "MWAS"), (r"other.*mixed", "MOTH"), (r"^indian$", "AIND"), (r"^pakistani$", "APKN"),
    (r"^bangladeshi$", "ABAN"), (r"other.*asian", "AOTH"), (r"^caribbean$", "BCRB"), (r"^african$", "BAFR"),
    (r"other.*black", "BOTH"), (r"^chinese$", "CHNE"), (r"other.*ethnic", "OOTH"), (r"refused|did not wish", "REFU"),
    (r"not.*obtained", "NOBT"),
)


def _ethnicity(expression: str) -> str:
    # Mixed groups first: "White and Black Caribbean" must not be read as "White ... British".
    ordered = tuple(sorted(ETHNICITY_NAMES, key=lambda rule: not rule[1].startswith("M")))
    return _code(expression, extract=_alternatives(feeds.ETHNICITIES), rules=ordered)


SOURCE_NAMES = (  # CIN ReferralSource from the descriptive Annex A values without their code
    (r"school nurse", "3C"), (r"^schools?$", "2A"), (r"education", "2B"), (r"\mgp\M|general practi", "3A"),
    (r"health visitor", "3B"), (r"a ?& ?e|accident", "3E"), (r"housing", "4"), (r"early help", "5D"),
    (r"^police$", "6"), (r"legal agency|court|probation", "7"), (r"anonymous", "9"), (r"^unknown$", "10"),
    (r"^self$|individual.*self", "1C"), (r"family|relative|carer", "1A"), (r"acquaint|neighbour", "1B"),
)


def _referral_source(expression: str) -> str:
    return _code(expression, extract=_alternatives(feeds.REFERRAL_SOURCES), rules=SOURCE_NAMES)


def _cp_category(expression: str) -> str:
    return _code(expression, extract=_alternatives(feeds.CP_CATEGORIES), rules=(
        (r"neglect", "NEG"), (r"physical", "PHY"), (r"sexual", "SAB"), (r"emotional", "EMO"), (r"multiple", "MUL")))


NEED_NAMES = ((r"abuse|neglect", "N1"), (r"child.*disab", "N2"), (r"parent.*(disab|ill)", "N3"),
              (r"acute stress", "N4"), (r"dysfunction", "N5"), (r"behaviour", "N6"), (r"low income", "N7"),
              (r"absent parenting", "N8"), (r"other than children in need", "N9"), (r"not stated", "N0"))

LEGAL_STATUS_NAMES = ((r"interim care order", "C1"), (r"full care order", "C2"), (r"placement order", "E1"),
                      (r"freeing order", "D1"), (r"section 20|\ms ?20\M", "V2"), (r"police protection", "L1"),
                      (r"emergency protection", "L2"), (r"child assessment order", "L3"), (r"remand", "J1"),
                      (r"pace", "J2"), (r"youth rehabilitation", "J3"))


def _eligibility(expression: str) -> str:
    return _code(expression, rules=((r"former", "FORMER_RELEVANT"), (r"relevant|relavent", "RELEVANT"),
                                    (r"qualifying", "QUALIFYING"), (r"eligible", "ELIGIBLE")))


def _in_touch(expression: str) -> str:
    # Every IN_TOUCH code may be written inside the value ("REFU: refuses contact"), except YES and NO: a bare
    # "No" inside a phrase ("not known, no contact") is not an answer, so those two are read by the rules alone.
    written_as_codes = tuple(code for code in feeds.IN_TOUCH if code not in ("YES", "NO"))
    return _code(expression, extract=_alternatives(written_as_codes),
                 rules=((YES, "YES"), (NO, "NO"), (r"died|death", "DIED")))


def _accommodation(kind: str, suitability: str) -> str:
    """SSDA903 ACCOM: the kind's letter ("B: Parents/relatives" -> B) and 1 suitable / 2 unsuitable."""
    letter = rf"^\s*([{ACCOMMODATION_KINDS}])\s*(:|\)|-|$)"
    suitable = _code(suitability, rules=((r"unsuitable|not suitable|^(b\)\s*)", "2"), (r"suitable|^(a\)\s*)", "1")))
    return f"""case when nullif(trim({kind}), '') is null or nullif(trim({suitability}), '') is null then ''
                    when upper(trim({kind})) ~ '{letter}'
                    then substring(upper(trim({kind})) from '{letter}') || {suitable}
                    else trim({kind}) end"""


PEOPLE_LISTS = (CONTACTS, EARLY_HELP, REFERRALS, ASSESSMENTS, SECTION_47, CHILDREN_IN_NEED, CHILD_PROTECTION,
                CHILDREN_IN_CARE, CARE_LEAVERS, ADOPTION)  # every list about a child (list 11 is adopters)


UASC_CHILDREN = " union ".join(  # SQL: the children list 8 or list 9 says are (or were) UASC
    f"select u.person_id from raw.{feed.id} u where {this_night('u')} and trim(u.{column}) ~* '{YES}'"
    for feed, column in ((CHILDREN_IN_CARE, "uasc_within_the_last_12_months"), (CARE_LEAVERS, "uasc_or_formerly_uasc")))


def _people_mapping(feed: Feed) -> Mapping:
    """crs__people from one list: one row per child (its first row in the sheet).

    One mapping per list, in list order, rather than one select over all lists: the importer runs
    a mapping when the first feed it reads was loaded, and takes a child from the first mapping
    that has it, so "the first list that has the child wins" holds whichever lists the workbook has.
    """
    return Mapping(
        target=feeds.CRS_PEOPLE, reads=(feed,),
        note=f"{feed.description.split(':')[0]}: children not in an earlier list. The first list that has the child "
             "(in list order) gives date of birth, gender and ethnicity; UASC is Y when list 8 or 9 says so. No NHS "
             "number, expected date of birth (an unborn child has no row) or postcode.",
        select=f"""
            select distinct on (l.person_id)
                   l.person_id, '' as nhs_number, {iso_date('l.date_of_birth')} as date_of_birth,
                   '' as expected_date_of_birth, {_gender('l.gender')} as gender,
                   {_ethnicity('l.ethnicity')} as ethnicity,
                   case when l.person_id in ({UASC_CHILDREN}) then 'Y' else 'N' end as uasc,
                   '' as postcode, {_lineage('l')}
            from raw.{feed.id} l where {this_night('l')}
            order by l.person_id, _source_row""",
    )


MAPPINGS: tuple[Mapping, ...] = (
    *(_people_mapping(feed) for feed in PEOPLE_LISTS),
    Mapping(
        target=feeds.CRS_CONTACTS, reads=(CONTACTS,),
        note="List 1 has the contact's date only: contact_at is that date at 00:00, and updated_at the same (the "
             "feed is incremental). No decision or decision time: contacts are undecided, so decision timeliness "
             "is not measurable. Id = child/date: two contacts of one child on one day are one id (the second is "
             "quarantined as a duplicate key).",
        select=f"""
            select {_id('c', 'date_of_contact')} as contact_id, c.person_id,
                   {iso_date('c.date_of_contact')} || ' 00:00' as contact_at,
                   {_referral_source('c.contact_source')} as contact_source,
                   '' as decision_at, '' as decision,
                   {iso_date('c.date_of_contact')} || ' 00:00' as updated_at, {_lineage('c')}
            from raw.{CONTACTS.id} c where {this_night('c')}""",
    ),
    Mapping(
        target=feeds.CRS_REFERRALS, reads=(REFERRALS,),
        note="Id = child/referral date; not linked to its contact (Annex A has no contact id). "
             "Team from Allocated Team.",
        select=f"""
            select {_id('r', 'date_of_referral')} as referral_id, r.person_id, '' as contact_id,
                   {iso_date('r.date_of_referral')} as referral_date,
                   {_referral_source('r.referral_source')} as referral_source,
                   {_flag('r.referral_nfa')} as referral_nfa, coalesce(r.allocated_team, '') as team, {_lineage('r')}
            from raw.{REFERRALS.id} r where {this_night('r')}""",
    ),
    Mapping(
        target=feeds.CRS_ASSESSMENTS, reads=(ASSESSMENTS,),
        note="Id = child/start date; not linked to its referral. is_pre_birth is Y when the child was born after "
             "the assessment started (Annex A has no pre-birth flag).",
        select=f"""
            select {_id('a', 'continuous_assessment_start_date')} as assessment_id, a.person_id, '' as referral_id,
                   {iso_date('a.continuous_assessment_start_date')} as start_date,
                   {iso_date('a.continuous_assessment_date_of_authorisation')} as authorised_date,
                   case when {iso_date('a.date_of_birth')} > {iso_date('a.continuous_assessment_start_date')}
                        then 'Y' else 'N' end as is_pre_birth,
                   coalesce(a.allocated_team, '') as team, {_lineage('a')}
            from raw.{ASSESSMENTS.id} a where {this_night('a')}""",
    ),
    Mapping(
        target=feeds.CRS_S47_ENQUIRIES, reads=(SECTION_47,),
        note="Id = child/strategy discussion date. icpc_required: Y when an ICPC date is given or the ICPC was not "
             "deemed unnecessary, N when it was. Annex A has no date the enquiry concluded: outcome_date is the ICPC "
             "date when one was held, the collection date (an upper bound) when an ICPC was deemed unnecessary, "
             "else empty (open). So s47s never reaching ICPC are counted, but not by month of conclusion.",
        select=f"""
            select {_id('s', 's47_strategy_discussion_date')} as s47_id, s.person_id,
                   '' as referral_id,
                   {iso_date('s.s47_strategy_discussion_date')}
                       as strategy_discussion_date,
                   case when nullif(trim(s.date_of_initial_child_protection_conference), '') is not null then 'Y'
                        else {_code('s.icpc_deemed_unnecessary',
                                    rules=((YES, 'N'), (NO, 'Y')), unknown=NOT_KNOWN)} end as icpc_required,
                   case when nullif(trim(s.date_of_initial_child_protection_conference), '') is not null
                        then {iso_date('s.date_of_initial_child_protection_conference')}
                        when trim(s.icpc_deemed_unnecessary) ~* '{YES}'
                        then to_char(%(extract_date)s::date, 'YYYY-MM-DD')
                        else '' end as outcome_date, {_lineage('s')}
            from raw.{SECTION_47.id} s where {this_night('s')}""",
    ),
    Mapping(
        target=feeds.CRS_ICPCS, reads=(SECTION_47,),
        note="One ICPC per list 5 row with a conference date; id = child/conference date, linked to its enquiry.",
        select=f"""
            select {_id('s', 'date_of_initial_child_protection_conference')} as icpc_id, s.person_id,
                   {_id('s', 's47_strategy_discussion_date')} as s47_id,
                   {iso_date('s.date_of_initial_child_protection_conference')} as icpc_date,
                   {_flag('s.icpc_resulted_in_child_protection_plan')} as cp_plan_required, {_lineage('s')}
            from raw.{SECTION_47.id} s
            where {this_night('s')} and nullif(trim(s.date_of_initial_child_protection_conference), '') is not null""",
    ),
    Mapping(
        target=feeds.CRS_CIN_EPISODES, reads=(CHILDREN_IN_NEED,),
        note="Id = child/CIN start date; not linked to its referral.",
        select=f"""
            select {_id('n', 'cin_start_date')} as cin_episode_id, n.person_id, '' as referral_id,
                   {iso_date('n.cin_start_date')} as start_date, {iso_date('n.cin_closure_date')} as end_date,
                   {_code('n.primary_need_code', extract=_alternatives(feeds.PRIMARY_NEEDS), rules=NEED_NAMES)}
                       as primary_need,
                   {_code('n.reason_for_closure', extract=_alternatives(feeds.CIN_CLOSURE_REASONS))} as closure_reason,
                   {_lineage('n')}
            from raw.{CHILDREN_IN_NEED.id} n where {this_night('n')}""",
    ),
    Mapping(
        target=feeds.CRS_CP_PLANS, reads=(CHILD_PROTECTION,),
        note="Id = child/plan start date; not linked to its conference. Only the plans open in the Annex A period "
             "(no plans that ended earlier: repeat plans only through Number of Previous CP Plans, not carried).",
        select=f"""
            select {_id('p', 'child_protection_plan_start_date')} as cp_plan_id, p.person_id, '' as icpc_id,
                   {iso_date('p.child_protection_plan_start_date')} as start_date,
                   {iso_date('p.child_protection_plan_end_date')} as end_date,
                   {_cp_category('p.initial_category_of_abuse')} as initial_category, {_lineage('p')}
            from raw.{CHILD_PROTECTION.id} p where {this_night('p')}""",
    ),
    Mapping(
        target=feeds.CRS_LOOKED_AFTER_EPISODES, reads=(CHILDREN_IN_CARE,),
        note="One episode per period of care (list 8 row): from the date started to be looked after to the date "
             "ceased, with the current legal status and placement type and reason_new_episode S. Legal status and "
             "placement changes within the period are not in Annex A, so placement moves and stability measures "
             "are not measurable. Id = child/start date, as the 903's first episode of the period: the 903 wins.",
        select=f"""
            select {_id('e', 'date_started_to_be_looked_after')} as la_episode_id, e.person_id,
                   {iso_date('e.date_started_to_be_looked_after')} as start_date,
                   {iso_date('e.date_ceased_to_be_looked_after')} as end_date, 'S' as reason_new_episode,
                   {_code('e.childs_legal_status', extract=_alternatives(feeds.LEGAL_STATUSES), rules=LEGAL_STATUS_NAMES)}
                       as legal_status,
                   {_code('e.placement_type', extract=_alternatives(feeds.PLACEMENT_TYPES))} as placement_type,
                   {_code('e.reason_ceased_to_be_looked_after', extract=_alternatives(feeds.REASONS_EPISODE_CEASED))}
                       as reason_episode_ceased,
                   coalesce(e.placement_postcode, '') as placement_postcode, {_lineage('e')}
            from raw.{CHILDREN_IN_CARE.id} e where {this_night('e')}""",
    ),
    Mapping(
        target=feeds.CRS_CARE_LEAVERS, reads=(CARE_LEAVERS,),
        note="No eligibility date. personal_adviser_id is the Allocated Personal Advisor as the workbook gives it "
             "(often a name, not a worker id). Accommodation: the kind's letter and 1/2 from Suitability, empty when "
             "either is missing. in_education is Y for higher education (F1, P1). No pathway plan events: only the "
             "latest review date, so plan timeliness and review intervals are not measurable.",
        select=f"""
            select l.person_id, {_eligibility('l.eligibility_category')} as eligibility_category,
                   '' as eligibility_date, coalesce(l.allocated_personal_advisor, '') as personal_adviser_id,
                   {_in_touch('l.la_in_touch')} as in_touch,
                   {_code('l.activity_status', extract=_alternatives(feeds.ACTIVITIES))} as activity,
                   {_accommodation('l.type_of_accommodation', 'l.suitability_of_accommodation')} as accommodation,
                   case when upper(l.activity_status) ~ '\\m(F1|P1)\\M' then 'Y' else 'N' end as in_education,
                   {_lineage('l')}
            from raw.{CARE_LEAVERS.id} l where {this_night('l')}""",
    ),
)


ANNEX_A = StatutoryReturn(
    name=SOURCE,
    title="Ofsted Annex A (ILACS child-level lists)",
    description="The workbook of child-level lists 1 to 11 a council sends Ofsted before an inspection.",
    feeds=FEEDS,
    mappings=MAPPINGS,
    collect=collect,
)
