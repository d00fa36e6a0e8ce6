"""A code outside its list (extract/code_lists.py) is quarantined by the loader with a clear reason.

The accommodation list follows the DfE's SSDA903 validator, rule 133: a care leaver's
accommodation S (no fixed abode) or X (in custody) is never suitable, so S1 and X1 are
rejected while S2 and X2 load.
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
def mine(settings):
    own = fresh_database(settings, DATABASE)
    conn = db.connect(own)
    yield conn
    conn.close()
    drop_database(settings, DATABASE)


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
