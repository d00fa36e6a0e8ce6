"""Ofsted's Annex A workbook as a feed: the converter, the loader's promises, the mappings.

The workbook is generated here with openpyxl in the published layout (one sheet per list,
Ofsted's headings, descriptive values such as "a) Male", dates as Excel dates or dd/mm/yyyy
text), for 18 made-up children. Expected figures are counted from the rows written into the
workbook, not from the pipeline. Real PostgreSQL (the session's embedded server), no dbt.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from extract.load import RejectedFile
from extract.returns.annex_a import ANNEX_A, collect, convert, date_text, list_number
from helpers import query

# The published headings (Ofsted ILACS Annex A, as in liia-tools' Annex_A_schema.yml), written
# out here rather than taken from the module, so the test checks the module against the layout.
CHILD = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)"]
HEADINGS = {
    1: CHILD + ["Date of Contact", "Contact Source"],
    2: CHILD + ["Assessment start date", "Assessment completion date", "Organisation completing assessment"],
    3: CHILD + ["Date of referral", "Referral Source", "Referral NFA?", "Number of Referrals in Last 12 Months",
                "Allocated Team", "Allocated Worker"],
    4: CHILD + ["Does the Child have a Disability", "Continuous Assessment Start Date",
                "Child Seen During Continuous Assessment", "Continuous Assessment Date of Authorisation",
                "Was the child assessed as requiring LA children's social care support?", "Allocated Team",
                "Allocated Worker"],
    5: CHILD + ["Does the Child have a Disability", "Strategy discussion initiating Section 47 Enquiry Start Date",
                "Was an Initial Child Protection Conference deemed unnecessary?",
                "Date of Initial Child Protection Conference",
                "Did the Initial Child Protection Conference Result in a Child Protection Plan",
                "Number of Section 47 Enquiries in the last 12 months", "Number of ICPCs in the last 12 months",
                "Allocated Team", "Allocated Worker"],
    6: CHILD + ["Does the Child have a Disability", "CIN Start Date", "Primary Need Code", "Date Child Was Last Seen",
                "CIN Closure Date", "Reason for Closure", "Case Status", "Allocated Team", "Allocated Worker"],
    7: CHILD + ["Does the Child have a Disability", "Child Protection Plan Start Date", "Initial Category of Abuse",
                "Latest Category of Abuse", "Date of the Last Statutory Visit", "Was the Child Seen Alone?",
                "Date of latest review conference", "Child Protection Plan End Date",
                "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
                "Number of Previous Child Protection Plans", "Allocated Team", "Allocated Worker"],
    8: CHILD + ["Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)",
                "Does the Child have a Disability", "Date Started to be Looked After", "Child's Category of Need",
                "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)",
                "Start date of current legal status", "Child's Legal Status", "Date of Latest Statutory Review",
                "Date of Last Social Work Visit", "What is the permanence plan for this child?",
                "Date of Last IRO Visit / Contact to the Child", "Date of Last Health Assessment",
                "Date of Last Dental Check", "Number of Placements in the Last 12 months",
                "Date Ceased to be Looked After", "Reason Ceased to be Looked After",
                "Start Date of Most Recent Placement", "Placement Type", "Placement Provider", "Placement postcode",
                "URN of Placement", "Placement Location", "LA of Placement",
                "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
                "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
                "Was the child offered a Return Interview after their last missing episode (Y/N)?",
                "Did the child accept a Return Interview after their last missing episode (Y/N)?",
                "Allocated Team", "Allocated Worker"],
    9: CHILD + ["Unaccompanied Asylum Seeking Child (UASC), or formerly UASC if 18 or over (Y/N)",
                "Does the Child have a Disability", "Allocated Team", "Allocated Worker", "Allocated Personal Advisor",
                "Eligibility Category", "Latest Pathway Plan Review Date", "LA in Touch", "Latest Date of Contact",
                "Type of Accommodation", "Suitability of Accommodation", "Activity Status"],
    10: ["Child Unique ID", "Family identifier", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)",
         "Does the Child have a Disability", "Date the Child Entered Care",
         "Date of Decision that Child Should be Placed for Adoption", "Date of Placement Order",
         "Date of Matching Child and Prospective Adopters", "Date Placed for Adoption", "Date of Adoption Order",
         "Date of Decision that Child Should No Longer be Placed for Adoption",
         "Reason Why Child No Longer Placed for Adoption",
         "Date the child was placed for fostering in FFA or concurrent planning placement"],
    11: ["Individual adopter identifier", "Family identifier", "Gender", "Ethnicity", "Disability",
         "Is the (prospective) adopter fostering for adoption?", "Date enquiry received", "Date Stage 1 started",
         "Date Stage 1 ended", "Date Stage 2 started", "Date Stage 2 ended", "Date application submitted",
         "Date application approved", "Date adopter matched with child(ren)",
         "Date child/children placed with adopter(s)", "No. of children placed", "Date of Adoption Order",
         "Date of leaving adoption process", "Reason for leaving adoption process"],
}
SHEET_TITLES = {1: "List 1 - Contacts", 2: "List 2 - Early Help", 3: "List 3 - Referrals", 4: "List 4",
                5: "List 5 - Section 47", 6: "List 6 - CIN", 7: "List 7 - CP", 8: "List 8 - CLA",
                9: "List 9 - Care Leavers", 10: "LIST 10 Adoption", 11: "List 11 - Adopters"}
GENDERS = ["a) Male", "b) Female", "Male", "Female"]
ETHNICITIES = ["a) WBRI", "White British", "o) BAFR", "k) APKN", "Any other Mixed background", "BCRB"]
EXPECTED_GENDER = {"a) Male": "1", "b) Female": "2", "Male": "1", "Female": "2"}
EXPECTED_ETHNICITY = {"a) WBRI": "WBRI", "White British": "WBRI", "o) BAFR": "BAFR", "k) APKN": "APKN",
                      "Any other Mixed background": "MOTH", "BCRB": "BCRB"}


def child(n: int) -> list:
    """The five child columns of child n: id, gender, ethnicity, date of birth (an Excel date), age."""
    born = datetime(2006 + n % 12, 1 + n % 12, 1 + n)
    return [f"C{n:03d}", GENDERS[n % 4], ETHNICITIES[n % 6], born, 2024 - born.year]


def text_date(d: date) -> str:
    """A date typed into a cell as text, the other way Annex A workbooks write dates."""
    return d.strftime("%d/%m/%Y")


def annex_a_rows() -> dict[int, list[list]]:
    """The lists' rows for collection year 2024 (1 April 2023 to 31 March 2024)."""
    sources = ["a) 1A: Individual", "Police", "e) 2A: Schools", "1C", "q) 6: Police", "g) 3A: Health services"]
    rows: dict[int, list[list]] = {n: [] for n in HEADINGS}
    for n in range(1, 13):  # contacts, children 1-12; children 1-3 twice
        rows[1].append(child(n) + [datetime(2023, 4 + n % 9, n), sources[n % 6]])
        if n <= 3:
            rows[1].append(child(n) + [text_date(date(2024, 1, 10 + n)), "Police"])
    for n in (13, 14, 15):
        rows[2].append(child(n) + [datetime(2023, 6, n), "", "Family Support Service"])
    for n in range(1, 10):  # referrals from the first contact
        nfa = ["a) Yes", "b) No", "N"][n % 3]
        rows[3].append(child(n) + [datetime(2023, 4 + n % 9, n + 1), sources[n % 6], nfa, 1, "Team A", "Worker 1"])
    for n in range(1, 9):
        done = datetime(2023, 5 + n % 9, 20) if n % 4 else None
        rows[4].append(child(n) + ["b) No", datetime(2023, 4 + n % 9, n + 2), "a) Yes", done, "a) Yes",
                                   "Team A", "Worker 1"])
    for n in range(1, 6):  # s47s; children 1-3 reach an ICPC
        icpc = text_date(date(2023, 6 + n, 1)) if n <= 3 else None
        unnecessary = "b) No" if n <= 3 else "a) Yes"
        rows[5].append(child(n) + ["b) No", datetime(2023, 5 + n, 10), unnecessary, icpc,
                                   "a) Yes" if n <= 3 else None, 1, 1 if n <= 3 else 0, "Team B", "Worker 2"])
    for n in range(1, 8):
        closed = datetime(2024, 2, n) if n % 3 == 0 else None
        rows[6].append(child(n) + ["b) No", datetime(2023, 4 + n % 9, n + 1), "N1 - Abuse or neglect", None, closed,
                                   "RC8 - Case closed after assessment, no further action" if closed else None,
                                   "c) Child in need plan", "Team C", "Worker 3"])
    categories = ["a) Neglect", "Emotional abuse", "c) Sexual abuse", "NEG", "z) Bullying"]  # the last is unknown
    for n in range(1, 6):
        rows[7].append(child(n) + ["b) No", text_date(date(2023, 6 + n, 1)), categories[n - 1], None, None, "a) Yes",
                                   None, None, "b) No", 0, "Team B", "Worker 2"])
    for n in (6, 7, 8, 9):
        ceased = datetime(2024, 1, 15) if n == 9 else None
        rows[8].append(child(n) + ["a) Yes" if n == 6 else "b) No", "b) No", datetime(2022, n, 1), "N1",
                                   "b) No", datetime(2022, n, 1),
                                   "C2: FCO" if n != 7 else "V2: Single period under S20",
                                   None, None, None, None, None, None, 1, ceased,
                                   "e) E4A: Returned home" if ceased else None, datetime(2023, 1, n),
                                   "f) U6: Foster placement - not FFA", "b) PR1: Own provision", "AB1 2CD", None,
                                   "a) In", "Own LA", 0, 0, None, None, "Team D", "Worker 4"])
    for n in (16, 17, 18):
        rows[9].append(child(n) + ["b) No", "b) No", "Team E", "Worker 5", "PA 1",
                                   "b) Former relevant child" if n != 16 else "a) Relevant child", None, "a) Yes",
                                   datetime(2024, 3, 1), "B: Parents/relatives", "a) Suitable",
                                   "F1: Full time in higher education"])
    rows[10].append([f"C{10:03d}", "F1", "b) Female", "a) WBRI", datetime(2020, 2, 2), 4, "b) No",
                     datetime(2022, 3, 1), datetime(2022, 9, 1), None, None, None, None, None, None, None])
    for n in (1, 2):
        rows[11].append([f"A{n}", "F1", "a) Male", "a) WBRI", "b) No", "b) No", datetime(2023, 5, n)] + [None] * 12)
    return rows


def write_workbook(path: Path, rows: dict[int, list[list]], headings: dict[int, list[str]] = HEADINGS) -> None:
    """The workbook: a notes sheet, then one sheet per list; list 8 has a title row above its headings,
    list 1 a blank row and a council's own extra column."""
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["Annex A, generated for tests: no real data"])
    for number, title in SHEET_TITLES.items():
        sheet = book.create_sheet(title)
        if number == 8:
            sheet.append(["List 8: children in care (title row)"])
        extra = ["Local flag"] if number == 1 else []
        sheet.append(headings[number] + extra)
        for i, row in enumerate(rows[number]):
            sheet.append(row + (["x"] if extra else []))
            if number == 1 and i == 2:
                sheet.append([None] * len(row))  # a blank row, skipped
    book.save(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_converter_writes_one_csv_per_list_with_every_row(tmp_path):
    rows = annex_a_rows()
    workbook = tmp_path / "Annex A 2024.xlsx"
    write_workbook(workbook, rows)

    written = convert(workbook, tmp_path / "landing")

    assert set(written) == {f.id for f in ANNEX_A.feeds}
    for feed in ANNEX_A.feeds:
        number = int(feed.name.split("_")[1])
        csv_rows = read_csv(written[feed.id])
        assert len(csv_rows) == len(rows[number]), feed.id
        assert list(csv_rows[0]) == list(feed.column_names), feed.id  # every declared column, nothing else
        assert SHEET_TITLES[number] in written[feed.id].name
    contacts = read_csv(written["annex_a__list_1_contacts"])
    first = rows[1][0]
    assert contacts[0]["person_id"] == first[0]
    assert contacts[0]["date_of_contact"] == first[5].strftime("%d/%m/%Y")  # an Excel date
    assert contacts[0]["date_of_birth"] == first[3].strftime("%d/%m/%Y")
    assert contacts[1]["date_of_contact"] == rows[1][1][5]  # dd/mm/yyyy text, kept
    assert contacts[0]["contact_source"] == first[6]  # descriptive values stay as delivered here
    # The sheet row: headings on row 1, a blank row after the third data row.
    assert [r["sheet_row"] for r in contacts[:5]] == ["2", "3", "4", "6", "7"]
    # List 8 has a title row: its headings are on row 2, its first child on row 3.
    assert read_csv(written["annex_a__list_8_children_in_care"])[0]["sheet_row"] == "3"


@pytest.mark.parametrize(("cell", "written"), [
    (datetime(2018, 4, 1, 0, 0), "01/04/2018"),  # an Excel date
    (date(2018, 4, 1), "01/04/2018"),
    ("01/04/2018", "01/04/2018"),  # dd/mm/yyyy text
    ("1/4/2018", "01/04/2018"),
    ("2018-04-01", "01/04/2018"),  # ISO text: unambiguous
    (43191, "01/04/2018"),  # a date cell that lost its date format: Excel's day number
    ("2018-13-45", "2018-13-45"),  # no date: as delivered, for the loader to quarantine
    ("31/02/2018", "31/02/2018"),
    ("unknown", "unknown"),
    (None, ""),
])
def test_dates_are_written_as_dd_mm_yyyy_or_as_delivered(cell, written):
    assert date_text(cell) == written


def test_list_sheets_are_recognised_by_name_leniently():
    titles = ("List 1", "List 1 - Contacts", "LIST 01 contacts", "list_3", "List 11 - Adopters",
              "List 12", "Lists", "Notes", "Contacts")
    assert [list_number(t) for t in titles] == [1, 1, 1, 3, 11, None, None, None, None]


def test_an_empty_list_is_not_collected_and_two_workbooks_are_refused(tmp_path):
    rows = annex_a_rows()
    rows[10] = []  # no children in the adoption list this year
    folder = tmp_path / "returns"
    folder.mkdir()
    write_workbook(folder / "Annex A.xlsx", rows)

    found = collect(folder, tmp_path / "landing")
    assert "annex_a__list_10_adoption" not in found and len(found) == 10

    write_workbook(folder / "Annex A (copy).xlsx", rows)
    with pytest.raises(RejectedFile, match=r"more than one Annex A workbook"):
        collect(folder, tmp_path / "landing")


def test_a_file_that_is_not_a_workbook_is_rejected_naming_it(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "annex_a.xlsx").write_text("Child Unique ID,Gender\nC001,Male\n")

    with pytest.raises(RejectedFile, match=r"annex_a\.xlsx: line 1: not a readable Excel workbook"):
        collect(folder, tmp_path / "landing")


def test_a_folder_without_an_annex_a_workbook_gives_nothing(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    other = Workbook()
    other.active.title = "Budget"
    other.save(folder / "budget.xlsx")

    assert collect(folder, tmp_path / "landing") == {}


def test_import_maps_the_lists_into_the_nightly_feeds(settings, conn, tmp_path):
    from extract.returns.importer import import_returns

    rows = annex_a_rows()
    folder = tmp_path / "returns"
    folder.mkdir()
    write_workbook(folder / "Annex A 2024.xlsx", rows)

    result = import_returns(settings, folder, 2024, returns=(ANNEX_A,))

    as_at = date(2024, 3, 31)
    assert result.extract_date == as_at
    loaded = {r.feed: r for r in result.loaded}
    assert {feed: r.rows for feed, r in loaded.items()} == {
        feed.id: len(rows[int(feed.name.split("_")[1])]) for feed in ANNEX_A.feeds}

    def count(feed: str) -> int:
        return query(conn, f"select count(*) from raw.{feed} where _extract_date = %s", (as_at,))[0][0]

    children = {row[0] for number, list_rows in rows.items() if number != 11 for row in list_rows}
    assert count("crs__people") == len(children) == 18
    assert count("crs__contacts") == len(rows[1])
    assert count("crs__referrals") == len(rows[3])
    assert count("crs__assessments") == len(rows[4])
    assert count("crs__s47_enquiries") == len(rows[5])
    assert count("crs__icpcs") == sum(1 for r in rows[5] if r[8]) == 3
    assert count("crs__cin_episodes") == len(rows[6])
    assert count("crs__cp_plans") == len(rows[7]) - 1  # "z) Bullying" is no category of ours
    assert count("crs__looked_after_episodes") == len(rows[8])
    assert count("crs__care_leavers") == len(rows[9])

    # The unknown code is quarantined by the nightly feed's own row checks, with its reason.
    reasons = query(conn, "select reason from raw.quarantine_current where feed = 'crs__cp_plans' "
                          "and extract_date = %s", (as_at,))
    assert reasons == [("initial_category: unknown code: 'z) Bullying'",)]
    # The mapped row points at the council's workbook, its sheet and row (issue #16), not at our
    # converted CSV or at "mapped from ...".
    bullying = next(i for i, row in enumerate(rows[7]) if "z) Bullying" in row)
    assert query(conn, "select origin_file, origin_location from raw.quarantine_current where feed = 'crs__cp_plans' "
                       "and extract_date = %s", (as_at,)) == [
        (str((folder / "Annex A 2024.xlsx").resolve()), f"sheet {SHEET_TITLES[7]!r}, row {bullying + 2}")]

    # Descriptive values became codes; dates ISO; ids from child and date (empty values arrive as null).
    people = dict(query(conn, "select person_id, gender || '/' || ethnicity || '/' || uasc from raw.crs__people "
                              "where _extract_date = %s", (as_at,)))
    for number in (1, 2, 9):
        for row in rows[number]:
            uasc = "Y" if row[0] == "C006" else "N"  # C006 is UASC in list 8
            assert people[row[0]] == f"{EXPECTED_GENDER[row[1]]}/{EXPECTED_ETHNICITY[row[2]]}/{uasc}", row[0]
    contact = rows[1][0]
    day = f"{contact[5]:%Y-%m-%d}"
    assert query(conn, "select contact_id, contact_at, contact_source, updated_at, coalesce(decision, '') "
                       "from raw.crs__contacts where _extract_date = %s and person_id = %s order by contact_at limit 1",
                 (as_at, contact[0])) == [(f"{contact[0]}/{day}", f"{day} 00:00", "6", f"{day} 00:00", "")]
    assert dict(query(conn, "select referral_nfa, count(*) from raw.crs__referrals where _extract_date = %s "
                            "group by 1", (as_at,))) == {
        "Y": sum(1 for r in rows[3] if r[7] == "a) Yes"), "N": sum(1 for r in rows[3] if r[7] != "a) Yes")}
    assert sorted(query(conn, "select legal_status, placement_type, coalesce(end_date, ''), "
                              "coalesce(reason_episode_ceased, '') from raw.crs__looked_after_episodes "
                              "where _extract_date = %s", (as_at,))) == sorted(
        [("C2", "U6", "", "")] * 2 + [("V2", "U6", "", ""), ("C2", "U6", "2024-01-15", "E4A")])
    assert sorted(query(conn, "select eligibility_category, in_touch, activity, accommodation, in_education "
                              "from raw.crs__care_leavers where _extract_date = %s", (as_at,))) == sorted(
        [("FORMER_RELEVANT", "YES", "F1", "B1", "Y")] * 2 + [("RELEVANT", "YES", "F1", "B1", "Y")])
    # Held conferences conclude the enquiry on their date; "deemed unnecessary" at the collection date (upper bound).
    assert sorted(query(conn, "select person_id, icpc_required, coalesce(outcome_date, '') from raw.crs__s47_enquiries "
                              "where _extract_date = %s", (as_at,))) == sorted(
        [(r[0], "Y", f"{datetime.strptime(r[8], '%d/%m/%Y'):%Y-%m-%d}") for r in rows[5] if r[8]]
        + [(r[0], "N", "2024-03-31") for r in rows[5] if not r[8]])


def test_children_come_from_whichever_lists_the_workbook_has(settings, conn, tmp_path):
    from extract.returns.importer import import_returns

    rows = annex_a_rows()
    rows[1] = []  # no contacts list: the children still come from the other lists
    folder = tmp_path / "returns"
    folder.mkdir()
    write_workbook(folder / "Annex A 2022.xlsx", rows)

    import_returns(settings, folder, 2022, returns=(ANNEX_A,))

    as_at = date(2022, 3, 31)
    children = {row[0] for number, list_rows in rows.items() if number != 11 for row in list_rows}
    assert query(conn, "select count(*), count(distinct person_id) from raw.crs__people where _extract_date = %s",
                 (as_at,)) == [(len(children), len(children))]
    assert query(conn, "select count(*) from raw.load_manifest where feed = 'crs__contacts' and extract_date = %s",
                 (as_at,)) == [(0,)]


def test_a_malformed_workbook_gets_the_extract_layers_errors(settings, conn, tmp_path):
    from extract.returns.importer import import_returns

    rows = annex_a_rows()
    rows[1][4][5] = "2018-13-45"  # no date: quarantined
    headings = dict(HEADINGS)
    headings[3] = [h for h in HEADINGS[3] if h != "Referral Source"]  # a required heading missing: list rejected
    rows[3] = [r[:6] + r[7:] for r in rows[3]]
    folder = tmp_path / "returns"
    folder.mkdir()
    write_workbook(folder / "Annex A 2023.xlsx", rows, headings)

    with pytest.raises(RejectedFile) as rejected:
        import_returns(settings, folder, 2023, returns=(ANNEX_A,))

    as_at = date(2023, 3, 31)
    message = str(rejected.value)
    assert "List 3 - Referrals.csv: line 1 (header): missing column(s) referral_source" in message
    manifest = dict(query(conn, "select feed, status || '/' || coalesce(rows_quarantined, 0) from raw.load_manifest "
                                "where extract_date = %s and feed like 'annex_a__%%'", (as_at,)))
    assert manifest["annex_a__list_3_referrals"] == "rejected/0"
    assert manifest["annex_a__list_1_contacts"] == "loaded/1"  # the other lists still load
    assert manifest["annex_a__list_7_child_protection"] == "loaded/0"
    (reason, line), = query(conn, "select reason, original_line from raw.quarantine_current "
                                  "where feed = 'annex_a__list_1_contacts' and extract_date = %s", (as_at,))
    assert reason == "date_of_contact: not a date (DD/MM/YYYY): '2018-13-45'"
    assert query(conn, "select origin_file, origin_location from raw.quarantine_current "
                       "where feed = 'annex_a__list_1_contacts' and extract_date = %s", (as_at,)) == [
        (str((folder / "Annex A 2023.xlsx").resolve()), f"sheet {SHEET_TITLES[1]!r}, row 7")]
    assert line.startswith(rows[1][4][0]) and line.endswith(",7")  # sheet row 7 (after the blank row 5)
    # A rejected file stops the mapping: no nightly batch was made from a partial return.
    assert query(conn, "select count(*) from raw.load_manifest where extract_date = %s and feed like 'crs__%%'",
                 (as_at,)) == [(0,)]
