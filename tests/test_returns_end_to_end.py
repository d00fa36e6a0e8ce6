"""Statutory returns end to end: `safeguarding import-returns` runs the real safeguarding_returns DAG.

The folder holds the public fake SSDA903 return (tests/data/returns/ssda903_fake), the
fake CIN census XML and a generated Annex A workbook. Real PostgreSQL, dbt, GX and
Airflow. Every expected figure is computed here from the files (the csv module and a
plain XML parse), never read from the pipeline.
"""

import csv
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest

from extract import feeds
from extract.code_lists import ACTIVITIES_SSDA903
from extract.load import RejectedFile
from extract.returns.importer import import_returns
from helpers import query
from test_returns_annex_a import annex_a_rows, write_workbook

pytestmark = pytest.mark.slow
DATA = Path(__file__).parent / "data" / "returns"
FAKE_903 = DATA / "ssda903_fake"
FAKE_CIN = DATA / "cin_census" / "valid" / "CIN_Census_2018.xml"
YEAR = 2018
AS_AT = date(2018, 3, 31)


def rows(name: str, folder: Path = FAKE_903) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def dmy(text: str) -> date | None:
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def children_looked_after_at(as_at: date) -> int:
    """SSDA903: looked after at 31 March = an episode started by then and not ended by then. The
    DfE's statistics leave out episodes under short breaks (legal status V3, V4)."""
    return len({e["CHILD"] for e in rows("episodes.csv")
                if dmy(e["DECOM"]) <= as_at and (not e["DEC"] or dmy(e["DEC"]) > as_at)
                and e["LS"] not in ("V3", "V4")})


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "safeguarding", *args], capture_output=True, text=True, timeout=1200,
                          env=dict(os.environ) | {"SAFEGUARDING_RETRY_DELAY_SECONDS": "1"})


@pytest.fixture(scope="module")
def returns_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("returns-2018")
    for table in ("header", "episodes", "missing", "oc3", "reviews", "uasc"):
        shutil.copy(FAKE_903 / f"{table}.csv", folder)
    shutil.copy(FAKE_CIN, folder)
    write_workbook(folder / "Annex A 2018.xlsx", annex_a_rows())
    return folder


@pytest.fixture(scope="module")
def imported(settings, returns_folder):
    result = run_cli("import-returns", str(returns_folder), "--year", str(YEAR))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result


def test_the_run_publishes_marts_as_at_31_march(conn, imported):
    assert "published as at 31 March 2018" in imported.stdout
    assert query(conn, "select extract_date from marts.publication") == [(AS_AT,)]


def test_the_import_ends_with_its_outcome_quarantined_rows_per_file_and_the_report(settings, conn, imported):
    """The last lines say what became of the import, not a 6,000-line log (issue #16): published (with
    how many warnings) or held back, the rows quarantined in each file the council handed over,
    and where the quality report is."""
    lines = imported.stdout.rstrip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"==> Returns import for {AS_AT}: "))
    outcome, rest = lines[start], lines[start + 1:]
    [(status, warnings)] = query(conn, "select status, warnings from dq.nightly_runs where extract_date = %s "
                                       "order by updated_at desc limit 1", (AS_AT,))
    assert outcome.split(": ", 1)[1].startswith(
        "PUBLISHED" if status == "published" else f"PUBLISHED WITH {warnings} WARNING")
    per_file = query(conn, """select coalesce(origin_file, source_file), count(distinct (batch_id, row_number))
                              from raw.quarantine_current where extract_date = %s group by 1 order by 1""", (AS_AT,))
    assert per_file and rest[0] == f"    Quarantined rows: {sum(n for _, n in per_file)} " \
                                   "(raw.quarantine_current; the rest of each file loaded):"
    assert rest[1:1 + len(per_file)] == [f"      {n:>6}  {file}" for file, n in per_file]
    assert not any("mapped from" in file for file, _ in per_file)  # every row points at a delivered file
    assert rest[-1] == f"    Quality report: {settings.state_dir}/reports/quality/{AS_AT}.html"


def test_a_nights_raw_gate_checks_a_return_only_on_the_night_it_was_imported(conn, imported):
    """A statutory return comes once a year: the raw gate of a later night must not warn that its
    tables got no rows that night (16 warnings on every night after an import, before)."""
    from expectations.validate import suites_for_night
    from extract.returns.registry import RETURN_FEEDS

    returns = {f.id for f in RETURN_FEEDS}
    on_the_night = {s.table for s in suites_for_night(conn, "raw", AS_AT)[0]}
    a_later_night = {s.table for s in suites_for_night(conn, "raw", date(AS_AT.year + 1, 11, 22))[0]}
    conn.rollback()
    assert on_the_night & returns and not a_later_night & returns


def test_children_looked_after_at_31_march(conn, imported):
    expected = children_looked_after_at(AS_AT)
    assert expected > 1000  # the fake return: about half of its 2,675 children
    assert query(conn, "select count(*) from marts.mart_looked_after_children where is_looked_after_at_as_at") \
        == [(expected,)]


def test_short_break_episodes_are_left_out_and_listed(conn, imported):
    """Every episode open in the year under V3 or V4 is an exclusion, none is counted."""
    year_start = date(AS_AT.year - 1, 4, 1)
    short_breaks = [e for e in rows("episodes.csv") if e["LS"] in ("V3", "V4") and dmy(e["DECOM"]) <= AS_AT
                    and (not e["DEC"] or dmy(e["DEC"]) >= year_start)]
    assert len(short_breaks) > 100
    assert query(conn, "select count(*) from marts.mart_data_quality_exclusions where reason_code = 'SHORT_BREAK'") \
        == [(len(short_breaks),)]


def test_missing_episodes_are_counted_and_rhi_timeliness_is_not_measurable(conn, imported):
    missing = rows("missing.csv")
    assert query(conn, "select count(*), count(*) filter (where is_rhi_measurable), count(offered_within_72h) "
                       "from marts.mart_return_home_interviews") == [(len(missing), 0, 0)]
    # The 903 has no return interviews: the scorecard says so instead of showing 0 %.
    statuses = query(conn, "select distinct rag_status, value from marts.mart_partnership_scorecard "
                           "where measure_id = 'RHI01'")
    assert statuses == [("NOT_MEASURABLE", None)]


def test_care_leavers_in_touch(conn, imported):
    # Rows with a code outside the 903's lists are quarantined (two ACCOM '01'/'02' rows of
    # young people who died): count the young people in touch among the others.
    in_touch = sum(1 for r in rows("oc3.csv")
                   if r["IN_TOUCH"] == "YES" and r["ACCOM"] in feeds.ACCOMMODATION and r["ACTIV"] in ACTIVITIES_SSDA903)
    assert in_touch > 0
    assert query(conn, "select count(*) filter (where is_in_touch) from marts.mart_pathway_plans") == [(in_touch,)]


def test_cin_census_child_protection_plans_reach_the_marts(conn, imported):
    plans = ET.parse(FAKE_CIN).getroot().findall(".//ChildProtectionPlans")
    assert query(conn, "select count(*) from marts.mart_child_protection_plans") == [(len(plans),)]


def test_annex_a_contacts_reach_the_front_door_mart(conn, imported):
    # The CIN census fills referrals, assessments and plans (it comes first); Annex A alone has contacts.
    contacts = len(annex_a_rows()[1])
    assert query(conn, "select count(*) from marts.mart_front_door_contacts") == [(contacts,)]


def test_repeated_review_rows_are_quarantined_with_their_lines(conn, imported):
    seen, repeats = set(), []
    for line, review in enumerate(rows("reviews.csv"), start=2):
        key = (review["CHILD"], review["REVIEW"])
        if key in seen:
            repeats.append(line)
        seen.add(key)
    assert repeats
    quarantined = query(conn, "select line_number from raw.quarantine_current where feed = 'ssda903__reviews' "
                              "and reason like 'duplicate key%%' and extract_date = %s order by 1", (AS_AT,))
    assert [q[0] for q in quarantined] == repeats


def test_dfe_validator_checks_run_on_the_missing_episodes(conn, imported):
    by_child: dict[str, list[tuple[date, date]]] = {}
    for m in rows("missing.csv"):
        by_child.setdefault(m["CHILD"], []).append((dmy(m["MIS_START"]), dmy(m["MIS_END"]) or date.max))
    overlapping = sum(1 for spans in by_child.values() for i, (s, e) in enumerate(spans)
                      if any(s2 < e and s < e2 for j, (s2, e2) in enumerate(spans) if j != i))
    results = dict(query(conn, """
        select expectation, unexpected_count from dq.validation_results
        where suite = 'raw.ssda903__missing' and extract_date = %s
          and expectation in ('no overlapping missing episodes for a child',
                              'mis_start not before the child''s date of birth')""", (AS_AT,)))
    assert results == {"no overlapping missing episodes for a child": overlapping,
                       "mis_start not before the child's date of birth": 0}


def test_a_wrong_header_is_rejected_and_the_published_marts_stay(settings, conn, imported, returns_folder, tmp_path):
    before = query(conn, "select count(*) from marts.mart_looked_after_children")
    folder = tmp_path / "bad-header"
    shutil.copytree(returns_folder, folder)
    text = (folder / "missing.csv").read_text()
    (folder / "missing.csv").write_text(text.replace("MIS_START", "MISSING_START", 1))
    with pytest.raises(RejectedFile) as raised:
        import_returns(settings, folder, YEAR)
    message = str(raised.value)
    assert "missing.csv: line 1 (header): missing column(s) MIS_START; unknown column(s) MISSING_START (column 4)" \
        in message
    assert query(conn, "select count(*) from marts.mart_looked_after_children") == before
    assert query(conn, "select status from raw.load_manifest where source_file = %s", (str(folder / "missing.csv"),)) \
        == [("rejected",)]


def test_a_wrong_date_format_and_an_unknown_code_are_quarantined(settings, conn, tmp_path):
    folder = tmp_path / "bad-rows"
    folder.mkdir()
    (folder / "missing.csv").write_text(
        "CHILD,DOB,MISSING,MIS_START,MIS_END\n"
        "1001,12/03/2005,M,13/11/2016,14/11/2016\n"
        "1002,12/03/2005,M,2016-11-13,14/11/2016\n"  # ISO, not the 903's dd/mm/yyyy
        "1003,12/03/2005,X,13/11/2016,14/11/2016\n")  # X: neither M nor A
    result = import_returns(settings, folder, 2017)
    (loaded,) = result.loaded
    assert (loaded.rows, loaded.rows_quarantined) == (1, 2)
    reasons = query(conn, "select line_number, column_name, reason from raw.quarantine where batch_id = %s "
                          "order by line_number", (loaded.batch_id,))
    assert reasons == [(3, "MIS_START", "MIS_START: not a date (DD/MM/YYYY): '2016-11-13'"),
                       (4, "MISSING", "MISSING: unknown code: 'X'")]
    assert query(conn, "select episode_id, missing_start from raw.crs__missing_episodes where _extract_date = %s",
                 (date(2017, 3, 31),)) == [("1001/2016-11-13", "2016-11-13 00:00")]
