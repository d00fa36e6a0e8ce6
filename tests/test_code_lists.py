"""A code outside its list (extract/code_lists.py) is quarantined by the loader with a clear reason.

The accommodation list follows the DfE's SSDA903 validator, rule 133: a care leaver's
accommodation S (no fixed abode) or X (in custody) is never suitable, so S1 and X1 are
rejected while S2 and X2 load. The lists whose codes changed between collection years
(SSDA903 SEX and PLACE, the census's Sex) accept every year's codes, and the returns'
mappings turn the newer sex codes into the people feed's gender codes.
"""

from __future__ import annotations

from datetime import date

import pytest

from extract import feeds
from extract.load import load_file
from warehouse import db

from helpers import drop_database, fresh_database, query

pytestmark = pytest.mark.slow

DATABASE = "test_code_lists"
NIGHT = date(2026, 11, 22)


@pytest.fixture(scope="module")
def own(settings):
    """Settings of this module's own database."""
    yield fresh_database(settings, DATABASE)
    drop_database(settings, DATABASE)


@pytest.fixture(scope="module")
def mine(own):
    conn = db.connect(own)
    yield conn
    conn.close()


def test_accommodation_s1_and_x1_are_quarantined_naming_line_column_and_code(mine, tmp_path):
    feed = feeds.CRS_CARE_LEAVERS
    rows = [("P1", "S1"), ("P2", "S2"), ("P3", "X1"), ("P4", "X2"), ("P5", "")]
    path = tmp_path / feed.file_name
    path.write_text(",".join(feed.column_names) + "\n" + "".join(
        f"{person},RELEVANT,2024-01-01,,YES,F1,{accommodation},N\n" for person, accommodation in rows))

    result = load_file(mine, feed, path, NIGHT)

    assert (result.status, result.rows, result.rows_quarantined) == ("loaded", 3, 2)
    assert query(mine, "select line_number, column_name, reason from raw.quarantine where batch_id = %s "
                       "order by line_number", (result.batch_id,)) == [
        (2, "accommodation", "accommodation: unknown code: 'S1'"),
        (4, "accommodation", "accommodation: unknown code: 'X1'"),
    ]
    assert sorted(query(mine, "select person_id, accommodation from raw.crs__care_leavers")) == [
        ("P2", "S2"), ("P4", "X2"), ("P5", None)]


def test_reason_for_placement_change_staff_is_quarantined(mine, tmp_path):
    """SSDA903 REASON_PLACE_CHANGE has 12 codes (the DfE validator's rule 1009); STAFF is not one."""
    from extract.returns import ssda903

    feed = ssda903.EPISODES
    path = tmp_path / feed.file_name
    path.write_text(",".join(c.label for c in feed.columns) + "\n"
                    "C1,01/04/2025,S,C2,N1,U1,PR1,,,STAFF,,,\n"
                    "C2,01/04/2025,S,C2,N1,U1,PR1,,,CARPL,,,\n")

    result = load_file(mine, feed, path, NIGHT)

    assert (result.status, result.rows, result.rows_quarantined) == ("loaded", 1, 1)
    assert query(mine, "select line_number, column_name, reason from raw.quarantine where batch_id = %s",
                 (result.batch_id,)) == [
        (2, "REASON_PLACE_CHANGE", "REASON_PLACE_CHANGE: unknown code: 'STAFF'")]


def test_sex_as_returns_write_it_before_and_from_2024_25_becomes_gender(mine, tmp_path):
    """903 SEX: 1/2 to 2023-24, M/F/U from 2024-25 (validator rule 101); census Sex M/F/U (rule 4180)."""
    from extract.returns import cin_census, ssda903
    from extract.returns.importer import _prepare_tables, map_into_nightly_feeds
    from extract.returns.registry import RETURNS

    as_at = date(2025, 3, 31)
    header = tmp_path / ssda903.HEADER.file_name
    header.write_text(",".join(c.label for c in ssda903.HEADER.columns) + "\n" + "".join(
        f"{child},{sex},01/02/2010,WBRI,,,\n" for child, sex in
        [("L1", "1"), ("L2", "2"), ("L3", "M"), ("L4", "F"), ("L5", "U"), ("L6", "X")]))
    children = tmp_path / cin_census.CHILDREN.file_name
    children.write_text(",".join(c.label for c in cin_census.CHILDREN.columns) + "\n" + "".join(
        f"{child},,2012-05-06,,{gender_current},{sex},,WBRI,NONE,{line}\n" for line, (child, gender_current, sex) in
        enumerate([("N1", "9", ""), ("N2", "", "M"), ("N3", "", "F"), ("N4", "", "U"), ("N5", "", "u ")], start=3)))
    _prepare_tables(mine, RETURNS)

    loaded_header = load_file(mine, ssda903.HEADER, header, as_at)
    load_file(mine, cin_census.CHILDREN, children, as_at)
    map_into_nightly_feeds(mine, RETURNS, as_at)

    assert (loaded_header.rows, loaded_header.rows_quarantined) == (5, 1)
    assert query(mine, "select line_number, column_name, reason from raw.quarantine where batch_id = %s",
                 (loaded_header.batch_id,)) == [(7, "SEX", "SEX: unknown code: 'X'")]
    assert sorted(query(mine, "select person_id, gender from raw.crs__people where _extract_date = %s", (as_at,))) == [
        ("L1", "1"), ("L2", "2"), ("L3", "1"), ("L4", "2"), ("L5", "0"),
        ("N1", "9"), ("N2", "1"), ("N3", "2"), ("N4", "0"), ("N5", "0")]


def test_placement_types_of_every_year_load_and_activity_oth_is_not_a_903_code(mine, tmp_path):
    """PLACE: H5, P2 and Z1 to 2024-25, K3 from 2024-25, Z11 to Z14 from 2025-26 (validator rule 146).
    ACTIV: OTH is this project's code for the nightly feed, not the 903's (rule 132)."""
    from extract.returns import ssda903

    episodes = tmp_path / ssda903.EPISODES.file_name
    episodes.write_text(",".join(c.label for c in ssda903.EPISODES.columns) + "\n" + "".join(
        f"C{n},01/04/2025,S,C2,N1,{place},PR1,,,CARPL,,,\n"
        for n, place in enumerate(["H5", "P2", "Z1", "K3", "Z11", "Z12", "Z13", "Z14", "Z15"])))
    oc3 = tmp_path / ssda903.OC3.file_name
    oc3.write_text(",".join(c.label for c in ssda903.OC3.columns) + "\n" + "".join(
        f"C{n},01/02/2005,YES,{activity},B1\n" for n, activity in enumerate(["F1", "F3", "OTH"])))

    loaded_episodes = load_file(mine, ssda903.EPISODES, episodes, NIGHT)
    loaded_oc3 = load_file(mine, ssda903.OC3, oc3, NIGHT)

    assert query(mine, "select line_number, reason from raw.quarantine where batch_id in (%s, %s) order by 2",
                 (loaded_episodes.batch_id, loaded_oc3.batch_id)) == [
        (4, "ACTIV: unknown code: 'OTH'"), (10, "PLACE: unknown code: 'Z15'")]
    assert (loaded_episodes.rows, loaded_oc3.rows) == (8, 2)
    assert "OTH" in feeds.ACTIVITIES  # the nightly care leavers feed keeps it


def test_a_returns_code_outside_its_collection_year_loads_and_the_raw_gate_warns(own, mine, tmp_path):
    """2025-26 (as at 31 March 2026): PLACE no longer H5, new Z11; SEX M, F, U, no longer 1 or 2.
    The rows load (nothing lost); the return's raw gate warns, naming the column."""
    from expectations.validate import run_checkpoint
    from extract.returns import ssda903

    as_at = date(2026, 3, 31)
    header = tmp_path / ssda903.HEADER.file_name
    header.write_text(",".join(c.label for c in ssda903.HEADER.columns) + "\n"
                      "A1,1,01/02/2010,WBRI,,,\nA2,M,01/02/2010,WBRI,,,\nA3,2,01/02/2011,WBRI,,,\n")
    episodes = tmp_path / ssda903.EPISODES.file_name
    episodes.write_text(",".join(c.label for c in ssda903.EPISODES.columns) + "\n"
                        "A1,01/04/2025,S,C2,N1,H5,PR1,,,CARPL,,,\n"
                        "A2,01/04/2025,S,C2,N1,Z11,PR1,,,CARPL,,,\n"
                        "A3,01/04/2025,S,C2,N1,U1,PR1,,,CARPL,,,\n")
    loaded = [load_file(mine, feed, path, as_at) for feed, path in
              ((ssda903.HEADER, header), (ssda903.EPISODES, episodes))]
    assert [(r.rows, r.rows_quarantined) for r in loaded] == [(3, 0), (3, 0)]

    outcomes = {o.suite: o for o in run_checkpoint(own.connection.url, "raw", extract_date=as_at, record=False)}

    assert all(o.success for o in outcomes.values())
    assert [w for w in outcomes["raw.ssda903__header"].warnings if w.startswith("SEX: codes")] == [
        "SEX: codes of the collection year: 2 offending rows"]  # A1's 1 and A3's 2
    assert [w for w in outcomes["raw.ssda903__episodes"].warnings if w.startswith("PLACE: codes")] == [
        "PLACE: codes of the collection year: 1 offending rows"]  # A1's H5


def test_a_nightly_feed_is_not_checked_by_collection_year():
    """The case recording system keeps the code an episode was recorded with: H5 on a nightly
    feed is no warning (the warning would fire on every healthy night)."""
    from expectations.suites import raw_suite

    described = [c.kwargs.get("description", "") for c in raw_suite(feeds.CRS_LOOKED_AFTER_EPISODES).checks]
    assert described and not [d for d in described if "collection year" in d]
