"""The SSDA903 return as XML: converted into the 903 CSVs, then loaded like them.

The XML files are rendered here from 903 CSV tables (``render_903_xml``), in the layout
the DfE validator reads (EXPSSDA903/CHILD/HEADER..., EPISODE), with ISO dates as the XML
writes them; the round trip compares the converted CSVs with the original rows of the
public fake return (tests/data/returns/ssda903_fake), read independently with the csv module.
"""

from __future__ import annotations

import csv
import shutil
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from extract.load import RejectedFile
from extract.returns.ssda903_xml import convert, is_ssda903_xml
from helpers import query

FAKE_903 = Path(__file__).resolve().parent / "data" / "returns" / "ssda903_fake"  # a copy of the public fake return
TINY_XML = Path(__file__).parent / "data" / "returns" / "ssda903_xml" / "tiny_903.xml"

MAIN_TABLES = ("header", "episodes", "missing", "oc3", "reviews", "uasc")
OTHER_TABLES = ("oc2", "ad1", "placed_for_adoption", "previous_permanence")
SUBSET_SIZE = 200

# The columns the 903 XML writes as xs:date (YYYY-MM-DD); the CSVs write dd/mm/yyyy.
DATE_COLUMNS = {"DOB", "MC_DOB", "DECOM", "DEC", "MIS_START", "MIS_END", "REVIEW", "DUC", "DATE_INT",
                "DATE_MATCH", "DATE_PLACED", "DATE_PLACED_CEASED", "DATE_PERM"}


# --- a 903 XML renderer for the tests ------------------------------------------------------------

def read_csv_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def _iso(value: str) -> str:
    """dd/mm/yyyy -> YYYY-MM-DD, as the XML writes dates; anything else unchanged."""
    parts = value.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}-{parts[1]}-{parts[0]}"
    return value


def _leaf(name: str, value: str, iso_dates: bool) -> str:
    if iso_dates and name in DATE_COLUMNS:
        value = _iso(value)
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name} />"


def _group(tag: str, row: dict[str, str], columns: list[str], iso_dates: bool, indent: str = "      ") -> str:
    leaves = "".join(_leaf({"PLACE": "PL"}.get(c, c), row[c], iso_dates) for c in columns)
    return f"{indent}<{tag}>{leaves}</{tag}>\n"


def render_903_xml(tables: dict[str, list[dict[str, str]]], children: list[str], out: Path,
                   iso_dates: bool = True) -> Path:
    """Write the 903 XML for ``children`` from 903 CSV rows ({table: rows}), one CHILD per child.

    The layout the DfE validator reads (lac_validator/ingress.py, read_xml_from_text): HEADER holds
    the child's fields (CHILDID, not CHILD), its UASC flag and DUC, the OC3 and AD1 fields, and the
    repeated AREVIEW, AMISSING, OC2, AD_PLACED and PERMANENCE groups; EPISODE (PL, not PLACE) follows.
    """
    by_child = {t: {} for t in tables}
    for table, rows in tables.items():
        for row in rows:
            by_child[table].setdefault(row["CHILD"], []).append(row)

    def rows_of(table: str, child: str) -> list[dict[str, str]]:
        return by_child.get(table, {}).get(child, [])

    def fields(table: str, row: dict[str, str], skip=("CHILD", "DOB")) -> list[str]:
        return [c for c in row if c not in skip]

    with out.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<EXPSSDA903>\n')
        for child in children:
            (header,) = rows_of("header", child)
            uasc = rows_of("uasc", child)
            fh.write("  <CHILD>\n    <HEADER>\n      ")
            fh.write("".join(_leaf(n, v, iso_dates) for n, v in (
                ("CHILDID", header["CHILD"]), ("UPN", header["UPN"]), ("SEX", header["SEX"]),
                ("DOB", header["DOB"]), ("ETHNIC", header["ETHNIC"]), ("UASC", "1" if uasc else "0"),
                ("DUC", uasc[0]["DUC"] if uasc else ""))))
            fh.write("\n")
            for row in rows_of("reviews", child):
                fh.write(_group("AREVIEW", row, fields("reviews", row), iso_dates))
            for row in rows_of("missing", child):
                fh.write(_group("AMISSING", row, fields("missing", row), iso_dates))
            fh.write("      " + "".join(_leaf(c, header[c], iso_dates) for c in ("MOTHER", "MC_DOB")) + "\n")
            for row in rows_of("oc2", child):
                fh.write(_group("OC2", row, fields("oc2", row), iso_dates))
            for row in rows_of("oc3", child) + rows_of("ad1", child):  # the child's own fields, no group
                fh.write("      " + "".join(_leaf(c, row[c], iso_dates) for c in fields("", row)) + "\n")
            for row in rows_of("placed_for_adoption", child):
                fh.write(_group("AD_PLACED", row, fields("placed_for_adoption", row), iso_dates))
            for row in rows_of("previous_permanence", child):
                fh.write(_group("PERMANENCE", row, fields("previous_permanence", row), iso_dates))
            fh.write("    </HEADER>\n")
            for row in rows_of("episodes", child):
                fh.write(_group("EPISODE", row, fields("episodes", row, skip=("CHILD",)), iso_dates, indent="    "))
            fh.write("  </CHILD>\n")
        fh.write("</EXPSSDA903>\n")
    return out


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake_903():
    """The public fake return, every table: {table: (header, rows)}."""
    return {t: read_csv_table(FAKE_903 / f"{t}.csv") for t in MAIN_TABLES + OTHER_TABLES}


@pytest.fixture(scope="module")
def subset_children(fake_903) -> list[str]:
    """200 children, chosen so that every table has rows: the children with missing episodes, OC3,
    AD1 and placed-for-adoption rows first, then UASC children, then others in header order."""
    chosen: list[str] = []
    for table in ("missing", "oc3", "ad1", "placed_for_adoption", "uasc", "header"):
        for row in fake_903[table][1]:
            if row["CHILD"] not in chosen and len(chosen) < SUBSET_SIZE:
                chosen.append(row["CHILD"])
    return chosen


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, fake_903, subset_children):
    """The subset rendered as 903 XML, then converted back: (xml path, {file name: csv path})."""
    folder = tmp_path_factory.mktemp("ssda903_xml")
    tables = {t: rows for t, (_, rows) in fake_903.items()}
    xml_path = render_903_xml(tables, subset_children, folder / "return_903.xml")
    return xml_path, convert(xml_path, folder / "csv")


def expected_rows(fake_903, table: str, children: list[str]) -> Counter:
    wanted = set(children)
    header, rows = fake_903[table]
    return Counter(tuple(r[c] for c in header) for r in rows if r["CHILD"] in wanted)


def converted_rows(path: Path) -> tuple[list[str], Counter]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, Counter(tuple(r) for r in reader)


# --- conversion ----------------------------------------------------------------------------------

@pytest.mark.parametrize("table", MAIN_TABLES + OTHER_TABLES)
def test_round_trip_gives_back_the_rows_of_the_903_csvs(round_trip, fake_903, subset_children, table):
    _, written = round_trip
    header, rows = converted_rows(written[f"{table}.csv"])
    assert header == fake_903[table][0]  # the DfE's column names in the DfE's order
    expected = expected_rows(fake_903, table, subset_children)
    assert expected, f"the subset should hold rows of {table}"
    assert rows == expected


def test_convert_returns_every_csv_by_file_name(round_trip):
    _, written = round_trip
    assert sorted(written) == sorted(f"{t}.csv" for t in MAIN_TABLES + OTHER_TABLES)
    assert all(p.is_file() and p.read_bytes().endswith(b"\n") for p in written.values())
    assert not list(next(iter(written.values())).parent.glob("*.partial"))


def test_tiny_hand_made_return(tmp_path):
    written = convert(TINY_XML, tmp_path)
    tables = {name: list(csv.reader(path.open(newline=""))) for name, path in written.items()}
    assert tables["header.csv"][1:] == [
        ["T001", "1", "17/05/2010", "WBRI", "A123456789012", "", ""],
        ["T002", "2", "14/02/2000", "AOTH", "", "0", ""],  # dates already dd/mm/yyyy stay as they are
        ["", "1", "30/11/2012", "MOTH", "", "", ""],  # no CHILDID: an empty CHILD, for the loader to quarantine
    ]
    assert tables["episodes.csv"][1:] == [
        ["T001", "20/04/2017", "S", "C2", "N1", "U1", "PR1", "01/09/2017", "X1", "CARPL", "ZZ1 1ZZ", "ZZ2 2ZZ",
         "SC000001"],
        ["T001", "01/09/2017", "P", "C2", "N1", "U3", "PR1", "", "", "", "ZZ1 1ZZ", "ZZ3 3ZZ", "SC000002"],
        # 2017-02-30 is not a date: written as delivered, for the loader to quarantine with its reason
        ["T002", "2017-02-30", "L", "V2", "N2", "K2", "PR4", "14/02/2018", "E8", "", "", "", ""],
        ["", "02/01/2018", "S", "J2", "N4", "R1", "PR0", "", "", "", "", "", ""],
    ]
    assert tables["missing.csv"][1:] == [["T001", "17/05/2010", "M", "03/08/2017", "05/08/2017"],
                                         ["T001", "17/05/2010", "A", "10/01/2018", ""]]
    assert tables["reviews.csv"][1:] == [["T001", "17/05/2010", "01/06/2017", "PN1"]]
    assert tables["oc3.csv"][1:] == [["T002", "14/02/2000", "YES", "F2", "S1"]]  # OC3 fields inside a wrapper
    assert tables["uasc.csv"][1:] == [["T002", "2", "14/02/2000", "14/02/2018"]]  # UASC 0 (T001) is no UASC row
    # Tables with no rows are not written (the loader refuses a header-only snapshot file).
    assert sorted(written) == ["episodes.csv", "header.csv", "missing.csv", "oc3.csv", "reviews.csv", "uasc.csv"]
    # Beside each CSV, where its rows are in the XML (extract/returns/origins.py).
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*written, *(f"{w}.origin.json" for w in written)])


def test_a_namespace_a_byte_order_mark_or_utf16_change_nothing(tmp_path):
    text = TINY_XML.read_text(encoding="utf-8").replace("<EXPSSDA903>", '<EXPSSDA903 xmlns="urn:example:903">')
    xml_path = tmp_path / "namespaced.xml"
    xml_path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert is_ssda903_xml(xml_path)
    utf16_path = tmp_path / "utf16.xml"
    utf16_path.write_bytes(TINY_XML.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
                           .encode("utf-16"))
    assert is_ssda903_xml(utf16_path)
    plain = convert(TINY_XML, tmp_path / "plain")
    expected = {n: p.read_text() for n, p in plain.items()}
    assert {n: p.read_text() for n, p in convert(xml_path, tmp_path / "namespaced").items()} == expected
    assert {n: p.read_text() for n, p in convert(utf16_path, tmp_path / "utf16").items()} == expected


def test_a_truncated_file_is_rejected_naming_its_last_line(tmp_path, round_trip):
    xml_path, _ = round_trip
    text = xml_path.read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(cut, encoding="utf-8")
    last_line = cut.count("\n") + 1
    out = tmp_path / "out"
    with pytest.raises(RejectedFile) as caught:
        convert(truncated, out)
    message = str(caught.value)
    assert message.startswith(f"{truncated}: ") and caught.value.path == str(truncated)
    assert f"line {last_line}, column " in message
    assert "not well-formed XML" in message
    assert list(out.iterdir()) == []  # nothing half-written is left to be loaded


def test_a_tag_left_open_is_rejected_with_its_line_and_column(tmp_path):
    lines = TINY_XML.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1) if "<CHILDID>T002</CHILDID>" in line)
    lines[number - 1] = lines[number - 1].replace("</CHILDID>", "</CHILD_ID>")
    broken = tmp_path / "broken.xml"
    broken.write_text("".join(lines), encoding="utf-8")
    column = lines[number - 1].index("CHILD_ID>") + 1  # 1-based: the name in the wrong end tag, where expat stops
    where = rf"broken\.xml: line {number}, column {column}: not well-formed XML \(mismatched tag\)"
    with pytest.raises(RejectedFile, match=where):
        convert(broken, tmp_path / "out")


def test_an_xml_file_with_no_children_is_rejected(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_text('<?xml version="1.0"?>\n<EXPSSDA903></EXPSSDA903>\n')
    with pytest.raises(RejectedFile, match="no <CHILD> elements"):
        convert(empty, tmp_path / "out")


CIN_CENSUS_LIKE = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails>
      <Collection>CIN</Collection><Year>2018</Year><ReferenceDate>2018-03-31</ReferenceDate>
    </CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>999</LEA></Source>
  </Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID>C001</LAchildID><PersonBirthDate>2010-01-01</PersonBirthDate></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
    </Child>
  </Children>
</Message>
"""


def test_is_ssda903_xml_tells_a_903_file_from_other_files(tmp_path, round_trip):
    xml_path, written = round_trip
    assert is_ssda903_xml(xml_path)
    assert is_ssda903_xml(TINY_XML)
    # The 903 nesting under another root name is still a 903 file.
    renamed = tmp_path / "renamed_root.xml"
    renamed.write_text(TINY_XML.read_text().replace("EXPSSDA903>", "SSDA903>"))
    assert is_ssda903_xml(renamed)
    cin = tmp_path / "cin_census.xml"
    cin.write_text(CIN_CENSUS_LIKE)
    assert not is_ssda903_xml(cin)
    assert not is_ssda903_xml(written["header.csv"])
    assert not is_ssda903_xml(FAKE_903 / "episodes.csv")
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    assert not is_ssda903_xml(empty)
    workbook = tmp_path / "annex_a.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    assert not is_ssda903_xml(workbook)
    assert not is_ssda903_xml(tmp_path)  # a folder


def test_memory_stays_flat_as_the_file_grows(tmp_path, fake_903, subset_children):
    """Ten times the children: the peak memory of the conversion must not grow with them."""
    tables = {t: rows for t, (_, rows) in fake_903.items()}
    small = render_903_xml(tables, subset_children[:50], tmp_path / "small.xml")
    many = [c for c in (r["CHILD"] for r in fake_903["header"][1])][:500]
    large = render_903_xml(tables, many, tmp_path / "large.xml")
    assert large.stat().st_size > 8 * small.stat().st_size

    def peak(path: Path, out: Path) -> int:
        tracemalloc.start()
        try:
            convert(path, out)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_peak, large_peak = peak(small, tmp_path / "s"), peak(large, tmp_path / "l")
    assert large_peak < 2 * small_peak + 256 * 1024, (small_peak, large_peak)


# --- with the 903 feeds and the loader -----------------------------------------------------------

ssda903 = pytest.importorskip("extract.returns.ssda903")


def test_collect_finds_and_converts_an_xml_return(tmp_path, round_trip):
    xml_path, _ = round_trip
    folder = tmp_path / "handed_over"
    folder.mkdir()
    (folder / "return_903.xml").write_bytes(xml_path.read_bytes())
    found = ssda903.collect(folder, tmp_path / "landing")
    assert sorted(found) == sorted(f.id for f in ssda903.FEEDS)
    assert all(p.parent == tmp_path / "landing" for p in found.values())


def _quarantined(conn, batch_id: int) -> list[tuple]:
    return query(conn, "select column_name, reason from raw.quarantine where batch_id = %s order by row_number",
                 (batch_id,))


def test_converted_csvs_load_like_the_903_csvs(conn, tmp_path, round_trip, fake_903, subset_children):
    """Each feed: the converted CSV loads to the same rows as the original CSV rows of those children."""
    from extract.load import load_file

    _, written = round_trip
    for feed in ssda903.FEEDS:
        table = feed.file_name.removesuffix(".csv")
        header, _ = fake_903[table]
        assert tuple(header) == tuple(c.label for c in feed.columns)  # the feed is declared on the DfE's columns
        original = tmp_path / feed.file_name
        with original.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(sorted(expected_rows(fake_903, table, subset_children).elements()))
        from_xml = load_file(conn, feed, written[feed.file_name], date(1999, 3, 31))
        from_csv = load_file(conn, feed, original, date(1998, 3, 31))
        assert from_xml.status == "loaded" and from_xml.rows > 0
        delivered = sum(expected_rows(fake_903, table, subset_children).values())
        assert from_xml.rows + from_xml.rows_quarantined == delivered
        assert (from_xml.rows, from_xml.rows_quarantined) == (from_csv.rows, from_csv.rows_quarantined)
        date_problems = [q for q in _quarantined(conn, from_xml.batch_id) if q[0] in DATE_COLUMNS]
        assert date_problems == []  # every converted date is a valid dd/mm/yyyy


def test_the_tiny_return_loads_and_quarantines_what_it_should(conn, tmp_path):
    from extract.load import load_file

    written = convert(TINY_XML, tmp_path)
    header = load_file(conn, ssda903.HEADER, written["header.csv"], date(1997, 3, 31))
    assert (header.rows, header.rows_quarantined) == (2, 1)
    assert [q[0] for q in _quarantined(conn, header.batch_id)] == ["CHILD"]
    episodes = load_file(conn, ssda903.EPISODES, written["episodes.csv"], date(1997, 3, 31))
    assert (episodes.rows, episodes.rows_quarantined) == (2, 2)
    assert sorted(q[0] for q in _quarantined(conn, episodes.batch_id)) == ["CHILD", "DECOM"]
    missing = load_file(conn, ssda903.MISSING, written["missing.csv"], date(1997, 3, 31))
    assert (missing.rows, missing.rows_quarantined) == (2, 0)
    loaded = query(conn, 'select mis_start, mis_end from raw.ssda903__missing '
                         "where _extract_date = %s order by 1", (date(1997, 3, 31),))
    assert [(start, end or "") for start, end in loaded] == [("03/08/2017", "05/08/2017"), ("10/01/2018", "")]


def test_quarantined_rows_point_at_the_line_of_the_xml_the_council_sent(settings, conn, tmp_path):
    """Not at the CSV we converted it into (issue #16): the line of the row's element in the 903 XML."""
    from extract.returns.importer import import_returns

    folder = tmp_path / "returns"
    folder.mkdir()
    xml = folder / "return_903.xml"
    shutil.copy(TINY_XML, xml)
    result = import_returns(settings, folder, 1996, returns=(ssda903.SSDA903,))
    episodes = next(r for r in result.loaded if r.feed == "ssda903__episodes")
    located = query(conn, "select column_name, origin_file, origin_location from raw.quarantine where batch_id = %s "
                          "order by column_name", (episodes.batch_id,))
    lines = xml.read_text(encoding="utf-8").splitlines()
    bad_date = next(n for n, line in enumerate(lines, start=1) if "<DECOM>2017-02-30</DECOM>" in line)
    assert [(c, f) for c, f, _ in located] == [("CHILD", str(xml.resolve())), ("DECOM", str(xml.resolve()))]
    for column, _, where in located:
        line = int(where.removeprefix("line "))
        assert lines[line - 1].strip() == "<EPISODE>", (column, where)  # the row's element starts there
    assert dict((c, w) for c, _, w in located)["DECOM"] == f"line {bad_date - 1}"
