"""The CIN census XML as feeds: converter, loader checks, and the mapping into the nightly crs feeds.

The expected figures are computed here from the XML with a plain ElementTree parse of the
whole file, independently of the streaming converter and of the SQL mappings.
The fake census (tests/data/returns/cin_census/valid/) is generated data describing 2017-18.
The tests import and load it as collection years 2030 to 2032 (not 2018) so that its batches
never mix with another test module's import in the shared test database: the importer maps
every return table loaded for a date.
"""

from __future__ import annotations

import csv
import shutil
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from extract import feeds
from extract.load import RejectedFile, load_file
from extract.returns.cin_census import CIN_CENSUS, FEEDS, collect, is_cin_census_xml
from helpers import query

DATA = Path(__file__).parent / "data" / "returns" / "cin_census"
VALID = DATA / "valid" / "CIN_Census_2018.xml"
MALFORMED = DATA / "malformed" / "CIN_Census_2018.xml"
TRUNCATED = DATA / "truncated" / "CIN_Census_2018.xml"
IMPORT_YEAR = 2030
MALFORMED_EXTRACT_DATE = date(2031, 3, 31)
SEX_IMPORT_YEAR = 2032
TRUE = ("true", "TRUE", "1")

# The XML block each census feed has one row per.
BLOCK_OF_FEED = {
    "cin_census__children": "Children/Child",
    "cin_census__cin_details": "Children/Child/CINdetails",
    "cin_census__assessments": "Children/Child/CINdetails/Assessments",
    "cin_census__cin_plans": "Children/Child/CINdetails/CINPlanDates",
    "cin_census__section47s": "Children/Child/CINdetails/Section47",
    "cin_census__cp_plans": "Children/Child/CINdetails/ChildProtectionPlans",
    "cin_census__cp_reviews": "Children/Child/CINdetails/ChildProtectionPlans/Reviews/CPPreviewDate",
}


def census(path: Path = VALID) -> ET.Element:
    return ET.parse(path).getroot()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def text(element: ET.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


# --- converter --------------------------------------------------------------------------------


def test_converter_writes_one_row_per_block_with_its_xml_line(tmp_path):
    written = collect(VALID.parent, tmp_path)
    root = census()
    assert set(written) == set(BLOCK_OF_FEED)  # the fake census has rows in every table
    xml_lines = VALID.read_text(encoding="utf-8").splitlines()
    for feed in FEEDS:
        rows = csv_rows(written[feed.id])
        assert len(rows) == len(root.findall(BLOCK_OF_FEED[feed.id])), feed.id
        with written[feed.id].open(encoding="utf-8") as fh:
            assert fh.readline().rstrip("\n").split(",") == [c.label for c in feed.columns]  # the DfE's names
        tag = BLOCK_OF_FEED[feed.id].rsplit("/", 1)[1]
        # xml_line points at the line where the row's block starts.
        assert all(f"<{tag}>" in xml_lines[int(r["xml_line"]) - 1] for r in rows), feed.id
    # The generated sequence keys: CINdetails numbered from 1 within each child.
    details = csv_rows(written["cin_census__cin_details"])
    expected = [(text(c, "ChildIdentifiers/LAchildID"), str(n), text(d, "CINreferralDate"))
                for c in root.iter("Child") for n, d in enumerate(c.findall("CINdetails"), start=1)]
    assert [(r["LAchildID"], r["CINdetailsID"], r["CINreferralDate"]) for r in details] == expected
    factors = [" ".join(f.text for f in a.findall("FactorsIdentifiedAtAssessment/AssessmentFactors"))
               for a in root.iter("Assessments")]
    assert [r["AssessmentFactors"] for r in csv_rows(written["cin_census__assessments"])] == factors


def test_census_recognised_by_content_not_name(tmp_path):
    renamed = tmp_path / "export_final_v2.xml"
    shutil.copy(VALID, renamed)
    (tmp_path / "something_else.xml").write_text('<?xml version="1.0"?><EXPSSDA903><CHILD/></EXPSSDA903>\n')
    assert is_cin_census_xml(renamed)
    assert not is_cin_census_xml(tmp_path / "something_else.xml")
    assert set(collect(tmp_path, tmp_path / "landing")) == set(BLOCK_OF_FEED)


def test_census_from_2024_25_with_sex_instead_of_gender(settings, conn, tmp_path):
    """From the 2024-25 census, Sex replaced GenderCurrent (csc-validator-be-cin rule 4180 for 2024-25; its
    fake_data/CIN_Census_2026.xml writes Sex)."""
    from extract.returns.importer import import_returns

    older = VALID.read_text(encoding="utf-8")
    newer = older.replace("<GenderCurrent>1</GenderCurrent>", "<Sex>M</Sex>").replace(
        "<GenderCurrent>2</GenderCurrent>", "<Sex>F</Sex>")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cin.xml").write_text(newer, encoding="utf-8")
    children = csv_rows(collect(tmp_path / "in", tmp_path / "landing")["cin_census__children"])
    sexes = {text(c, "ChildIdentifiers/LAchildID"): text(c, "ChildIdentifiers/Sex")
             for c in ET.fromstring(newer).iter("Child")}
    assert {r["LAchildID"]: r["Sex"] for r in children} == sexes
    assert [r["GenderCurrent"] for r in children if not r["Sex"]] == ["0"]  # the unborn child kept GenderCurrent
    import_returns(settings, tmp_path / "in", SEX_IMPORT_YEAR, returns=(CIN_CENSUS,))
    genders = dict(query(conn, "select person_id, gender from raw.crs__people where _extract_date = %s",
                         (date(SEX_IMPORT_YEAR, 3, 31),)))
    assert genders == {child: {"M": "1", "F": "2", "": "0"}[sex] for child, sex in sexes.items()}


def test_truncated_census_is_rejected_naming_line_and_column(tmp_path):
    content = TRUNCATED.read_text(encoding="utf-8")
    last_line = content.rsplit("\n", 1)[1]
    expected_where = f"line {content.count(chr(10)) + 1}, column {len(last_line) + 1}"
    with pytest.raises(RejectedFile) as raised:
        collect(TRUNCATED.parent, tmp_path / "landing")
    assert str(raised.value).startswith(f"{TRUNCATED}: {expected_where}: not well-formed XML")
    assert not list((tmp_path / "landing").glob("*.csv"))  # no half-written CSV left to load


# --- loader: row checks ---------------------------------------------------------------------


def test_malformed_census_rows_are_quarantined_and_the_rest_loads(conn, tmp_path):
    written = collect(MALFORMED.parent, tmp_path)
    by_id = {f.id: f for f in FEEDS}
    results = {feed_id: load_file(conn, by_id[feed_id], path, MALFORMED_EXTRACT_DATE)
               for feed_id, path in written.items()}
    problems = query(conn, "select feed, column_name, reason, original_line from raw.quarantine_current "
                           "where extract_date = %s order by feed, line_number", (MALFORMED_EXTRACT_DATE,))
    reasons = {(feed, column, reason) for feed, column, reason, _ in problems}
    root = census(MALFORMED)
    # The file's mistakes, found with a plain parse: a dd/mm/yyyy date in an ISO date element, an unknown code.
    bad_date = next(e.text for e in root.iter("PersonBirthDate") if "/" in e.text)
    bad_code = next(e.text for e in root.iter("ReferralSource") if e.text not in feeds.REFERRAL_SOURCES)
    assert ("cin_census__children", "PersonBirthDate", f"PersonBirthDate: not a date (YYYY-MM-DD): '{bad_date}'") \
        in reasons
    assert ("cin_census__cin_details", "ReferralSource", f"ReferralSource: unknown code: '{bad_code}'") in reasons
    # The child with no LAchildID: every row of its blocks is held back, nothing else is.
    nameless = next(c for c in root.iter("Child") if not text(c, "ChildIdentifiers/LAchildID"))
    nameless_rows = 1 + sum(len(nameless.findall(BLOCK_OF_FEED[f].split("Children/Child/", 1)[1]))
                            for f in BLOCK_OF_FEED if f != "cin_census__children")
    missing_id = [p for p in problems if p[1] == "LAchildID"]
    assert len(missing_id) == nameless_rows
    assert all(p[2] == "LAchildID is required but empty" for p in missing_id)
    assert sum(r.rows_quarantined for r in results.values()) == nameless_rows + 2
    assert sum(r.rows for r in results.values()) == sum(len(root.findall(b)) for b in BLOCK_OF_FEED.values()) \
        - nameless_rows - 2
    # The quarantined row names its line in the XML (last field, xml_line): the bad date is in that Child.
    bad_date_row = next(p[3] for p in problems if p[1] == "PersonBirthDate")
    xml_line = int(bad_date_row.rsplit(",", 1)[1])
    lines = MALFORMED.read_text(encoding="utf-8").splitlines()
    child_block = lines[xml_line - 1: lines.index("        </Child>", xml_line - 1)]
    assert "<Child>" in child_block[0] and any(bad_date in line for line in child_block)


# --- importer: mapped into the nightly feeds -------------------------------------------------


@pytest.fixture(scope="module")
def imported(settings, tmp_path_factory):
    from extract.returns.importer import import_returns

    folder = tmp_path_factory.mktemp("cin_returns")
    shutil.copy(VALID, folder / "cin_census_2017_18.xml")
    first = import_returns(settings, folder, IMPORT_YEAR, returns=(CIN_CENSUS,))
    again = import_returns(settings, folder, IMPORT_YEAR, returns=(CIN_CENSUS,))
    return first, again


def rows_of(conn, feed: str, columns: str) -> list[tuple]:
    return query(conn, f"select {columns} from raw.{feed} where _extract_date = %s order by 1",
                 (date(IMPORT_YEAR, 3, 31),))


def test_import_derives_the_nightly_crs_feeds(imported, conn):
    first, _ = imported
    root = census()
    children = root.findall("Children/Child")
    details = root.findall("Children/Child/CINdetails")
    s47s = root.findall("Children/Child/CINdetails/Section47")
    plans = root.findall("Children/Child/CINdetails/ChildProtectionPlans")
    assert all(r.rows_quarantined == 0 for r in first.loaded + first.derived), first.summary()
    assert {r.feed for r in first.derived} == {"crs__people", "crs__referrals", "crs__cin_episodes", "crs__assessments",
                                               "crs__s47_enquiries", "crs__icpcs", "crs__cp_plans"}

    people = rows_of(conn, "crs__people", "person_id, gender, uasc, date_of_birth")
    assert len(people) == len(children)
    uasc = {text(c, "ChildIdentifiers/LAchildID") for c in children
            if any(f.text == "9A" for f in c.iter("AssessmentFactors"))}
    assert uasc and {p[0] for p in people if p[2] == "Y"} == uasc

    referrals = rows_of(conn, "crs__referrals", "referral_id, referral_nfa")
    assert len(referrals) == len(details) == len({r[0] for r in referrals})
    nfa = sum(text(d, "ReferralNFA") in TRUE for d in details)
    assert nfa and sum(r[1] == "Y" for r in referrals) == nfa

    episodes = rows_of(conn, "crs__cin_episodes", "cin_episode_id, end_date")
    assert sum(e[1] is None for e in episodes) == sum(not text(d, "CINclosureDate") for d in details) > 0

    enquiries = rows_of(conn, "crs__s47_enquiries", "s47_id, icpc_required, outcome_date")
    assert len(enquiries) == len(s47s)
    not_required = sum(text(s, "ICPCnotRequired") in TRUE for s in s47s)
    assert not_required and sum(e[1] == "N" for e in enquiries) == not_required
    assert all(e[2] for e in enquiries if e[1] == "N")  # concluded: an outcome date (at latest the census date)

    # Conferences: one per Section47 with a date, plus an episode's own conference date that no s47 holds.
    expected_icpcs = []
    for child in children:
        plan_starts = {text(p, "CPPstartDate") for p in child.iter("ChildProtectionPlans")}
        for detail in child.findall("CINdetails"):
            s47_dates = [text(s, "DateOfInitialCPC") for s in detail.findall("Section47")
                         if text(s, "DateOfInitialCPC")]
            own = [text(detail, "DateOfInitialCPC")] if text(detail, "DateOfInitialCPC") not in ("", *s47_dates) else []
            expected_icpcs += [(d, "Y" if d in plan_starts else "N") for d in s47_dates + own]
    icpcs = rows_of(conn, "crs__icpcs", "icpc_date, cp_plan_required")
    assert sorted(icpcs) == sorted(expected_icpcs)
    assert {"Y", "N"} <= {i[1] for i in icpcs}

    cp_plans = rows_of(conn, "crs__cp_plans", "cp_plan_id, person_id, icpc_id, end_date")
    assert len(cp_plans) == len(plans)
    repeat = [p for p in plans if int(text(p, "NumberOfPreviousCPP")) > 0]
    assert repeat and len(cp_plans) == len({p[0] for p in cp_plans})
    assert sum(p[3] is None for p in cp_plans) == sum(not text(p, "CPPendDate") for p in plans)


def test_reimporting_the_same_census_changes_nothing(imported, conn):
    first, again = imported
    assert {r.status for r in again.loaded + again.derived} == {"duplicate"}
    assert {r.feed: r.rows for r in again.derived} == {r.feed: r.rows for r in first.derived}


def test_quarantined_rows_point_at_the_line_of_the_census_the_council_sent(settings, conn, tmp_path):
    """Not at the CSV we converted it into (issue #16): the census file and the line its block starts on."""
    from extract.returns.importer import import_returns

    folder = tmp_path / "returns"
    folder.mkdir()
    census_file = folder / "CIN_Census_2011.xml"
    shutil.copy(MALFORMED, census_file)
    import_returns(settings, folder, 2011, returns=(CIN_CENSUS,))
    located = query(conn, "select column_name, original_line, origin_file, origin_location from raw.quarantine_current "
                          "where extract_date = %s", (date(2011, 3, 31),))
    assert located and all(file == str(census_file.resolve()) for _, _, file, _ in located)
    for _, original_line, _, where in located:
        assert where == f"line {original_line.rsplit(',', 1)[1]}"  # the row's xml_line
    bad_date = next(e.text for e in census(MALFORMED).iter("PersonBirthDate") if "/" in e.text)
    [(_, _, _, where)] = [row for row in located if row[0] == "PersonBirthDate"]
    lines = census_file.read_text(encoding="utf-8").splitlines()
    start = int(where.removeprefix("line "))
    child = lines[start - 1: lines.index("        </Child>", start - 1)]
    assert "<Child>" in child[0] and any(bad_date in line for line in child)
