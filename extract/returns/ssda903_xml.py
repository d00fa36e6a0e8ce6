"""The SSDA903 return delivered as the DfE's XML file, converted into the 903 CSVs.

Councils send the 903 either as one CSV per table or as one XML file. The feeds
(extract/returns/ssda903.py) are declared on the CSVs, so an XML file is first
converted into exactly those CSVs: the same file names, column names and column
order (lac_validator/config.py in data-to-insight/csc-validator-be-903) and the
same dd/mm/yyyy dates. After that it loads like any other delivery, through the
same row checks and quarantine.

The layout, as the DfE's own validator reads it (``read_xml_from_text`` in
lac_validator/ingress.py of data-to-insight/csc-validator-be-903, whose test file
tests/fake_data/fake_903.xml shows it; the published schema, "Expanded SSDA903
Return", has the same root ``EXPSSDA903`` and ``CHILD/HEADER/CHILDID``)::

    <EXPSSDA903>
      <CHILD>                                  one per child
        <HEADER>
          <CHILDID/> <UPN/> <SEX/> <DOB/> <ETHNIC/> <UASC/> <DUC/> <MOTHER/> <MC_DOB/>
          <IN_TOUCH/> <ACTIV/> <ACCOM/>        care leaver (OC3), for some children
          <DATE_INT/> ... <LS_ADOPTR/>         adoption (AD1), for some children
          <AREVIEW> REVIEW REVIEW_CODE </AREVIEW>               repeated: reviews.csv
          <AMISSING> MISSING MIS_START MIS_END </AMISSING>      repeated: missing.csv
          <OC2> SDQ_SCORE ... </OC2>                            oc2.csv
          <PERMANENCE> PREV_PERM LA_PERM DATE_PERM </PERMANENCE>  previous_permanence.csv
          <AD_PLACED> DATE_PLACED ... </AD_PLACED>              placed_for_adoption.csv
        </HEADER>
        <EPISODE> DECOM RNE LS CIN PL ... </EPISODE>            repeated: episodes.csv
      </CHILD>
    </EXPSSDA903>

Two names differ from the CSVs: ``CHILDID`` is the CSV's ``CHILD`` and ``PL`` is
``PLACE``. Like the validator, a value that is not inside a repeated group
(``EPISODE``, ``AREVIEW``...) belongs to the child wherever it sits in the
child's element, so a wrapper element the schema adds around the OC3 or AD1
fields changes nothing. Rows of a group take the child's CHILD (and DOB, SEX)
from the child's fields.

Rules the conversion keeps:

* **Streaming**: ``iterparse`` reads one ``CHILD`` at a time and clears it once
  its rows are written, so memory stays flat whatever the size of the file.
* **Dates**: the XML writes dates as ``YYYY-MM-DD`` (xs:date); they become
  ``dd/mm/yyyy``. A value that is already ``dd/mm/yyyy`` (some exports, and the
  validator's own fake file, write them so), or that is not a valid date at all,
  is written exactly as delivered: the loader then quarantines a bad one with
  its reason, column and line, and the rest loads.
* **Values are never fixed up**: a child with no ``CHILDID`` gets rows with an
  empty CHILD (the loader quarantines them: CHILD is required); codes keep
  their letter case.
* **Only tables with rows are written**: a return with no missing episodes
  gives no missing.csv, as a council sending CSVs would leave it out.
* **A file that is not well-formed XML** (cut short, a tag left open) is
  rejected as a whole with ``RejectedFile`` naming the file, line and column,
  and no CSV is left behind.
"""

from __future__ import annotations

import csv
import logging
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from ..load import RejectedFile
from . import origins

log = logging.getLogger(__name__)

ROOT_ELEMENT = "EXPSSDA903"
CHILD_ELEMENT = "CHILD"

# The 903 CSV tables: file name -> columns, in the order of lac_validator/config.py
# (the order the DfE's CSVs and the fake set in reference-data/ssda903_fake use).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "header.csv": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes.csv": ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                     "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"),
    "missing.csv": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "oc3.csv": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    "reviews.csv": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "uasc.csv": ("CHILD", "SEX", "DOB", "DUC"),
    "oc2.csv": ("CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
                "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
                "INTERVENTION_OFFERED"),
    "ad1.csv": ("CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"),
    "placed_for_adoption.csv": ("CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
    "previous_permanence.csv": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
}

# Every element name the conversion knows (UASC: the flag, which no CSV carries as a column).
ALL_COLUMNS = frozenset(c for columns in TABLE_COLUMNS.values() for c in columns) | {"UASC"}

# Elements that make one row each of a table, repeated as often as the child needs.
GROUP_TABLES = {
    "EPISODE": "episodes.csv",
    "AREVIEW": "reviews.csv",
    "AMISSING": "missing.csv",
    "OC2": "oc2.csv",
    "PERMANENCE": "previous_permanence.csv",
    "AD_PLACED": "placed_for_adoption.csv",
}

# Tables made of the child's own fields: at most one row per child, written when
# the child has any of these fields with a value (the header: always).
CHILD_TABLE_MARKERS = {
    "uasc.csv": ("UASC", "DUC"),  # UASC is a flag; "0" means not a UASC (see _is_uasc)
    "oc3.csv": ("IN_TOUCH", "ACTIV", "ACCOM"),
    "ad1.csv": ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"),
}

# XML element name -> CSV column name, where they differ.
RENAMED = {"CHILDID": "CHILD", "PL": "PLACE"}

DATE_COLUMNS = frozenset({
    "DOB", "MC_DOB", "DECOM", "DEC", "MIS_START", "MIS_END", "REVIEW", "DUC", "DATE_INT", "DATE_MATCH",
    "DATE_PLACED", "DATE_PLACED_CEASED", "DATE_PERM",
})
# xs:date: YYYY-MM-DD, optionally with a time zone (Z or +hh:mm), which a date of a return ignores.
XML_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")

SNIFF_BYTES = 64 * 1024


def is_ssda903_xml(path: Path) -> bool:
    """True when the file is a 903 XML return, judged from its first 64 KB.

    A 903 file's root element is ``EXPSSDA903``; a file whose root has another name
    is still taken for one when its first elements are ``CHILD/HEADER/CHILDID``, the
    903's own nesting (the CIN census nests ``Message/Children/Child`` instead).
    A CSV, an Excel workbook or any other XML is not.
    """
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))  # a byte-order mark: the parser reads UTF-16 itself
    if not utf16 and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False  # not XML at all: a CSV, a workbook
    parser = ET.XMLPullParser(events=("start", "end"))
    path_from_root: list[str] = []
    elements_seen = 0
    try:
        # Fed in small pieces so that what was read before a flaw counts: a 903 file with a
        # bad tag early on is still recognised, and then rejected by convert() with its line.
        for offset in range(0, len(head), 4096):
            parser.feed(head[offset:offset + 4096])
            for event, element in parser.read_events():
                if event == "end":
                    path_from_root.pop()
                    continue
                path_from_root.append(_local_name(element.tag))
                elements_seen += 1
                if path_from_root == [ROOT_ELEMENT] or path_from_root[1:] == [CHILD_ELEMENT, "HEADER", "CHILDID"]:
                    return True
                if elements_seen > 200:
                    return False
    except ET.ParseError:
        return False  # not XML: a CSV, a workbook, text
    return False


def convert(xml_path: Path, out_dir: Path) -> dict[str, Path]:
    """Convert a 903 XML file into the 903 CSVs in ``out_dir``; returns {file name: path}.

    The keys are the CSV file names: header.csv, episodes.csv, missing.csv, oc3.csv,
    reviews.csv, uasc.csv, oc2.csv, ad1.csv, placed_for_adoption.csv and
    previous_permanence.csv. A table the return has no rows for is not written (a
    return with no missing episodes has no missing.csv), just as a council sending
    CSVs leaves that file out: the loader refuses a header-only file for a snapshot
    feed. Raises ``RejectedFile`` (file, line, column) when the file is not
    well-formed XML or holds no CHILD elements; then no CSV is left.
    """
    xml_path, out_dir = Path(xml_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = {name: out_dir / name for name in TABLE_COLUMNS}
    # Written under a temporary name and renamed at the end, so a file rejected half-way
    # never leaves a CSV that looks complete.
    partial = {name: path.with_name(path.name + ".partial") for name, path in final.items()}
    handles = {name: path.open("w", encoding="utf-8", newline="") for name, path in partial.items()}
    try:
        writers = {name: csv.writer(fh, lineterminator="\n") for name, fh in handles.items()}
        for name, writer in writers.items():
            writer.writerow(TABLE_COLUMNS[name])
        lines: dict[str, list[int]] = {name: [] for name in TABLE_COLUMNS}  # each row's XML line (origins.py)
        rows = _write_children(xml_path, writers, lines)
    except BaseException:
        for fh in handles.values():
            fh.close()
        for path in partial.values():
            path.unlink(missing_ok=True)
        raise
    for fh in handles.values():
        fh.close()
    if rows["header.csv"] == 0:  # one header row per CHILD element
        for path in partial.values():
            path.unlink(missing_ok=True)
        raise _rejected(xml_path, f"line 1, column 1: no <{CHILD_ELEMENT}> elements: this is not an SSDA903 "
                                  f"XML return (expected <{ROOT_ELEMENT}><{CHILD_ELEMENT}><HEADER>...)")
    written = {}
    for name in TABLE_COLUMNS:
        if rows[name]:
            partial[name].replace(final[name])
            written[name] = final[name]
            origins.write(final[name], xml_path, lines[name], origins.LINE)
        else:
            partial[name].unlink()
            final[name].unlink(missing_ok=True)  # left by an earlier conversion into the same folder
    log.info("%s: converted into %s (%s)", xml_path, out_dir,
             ", ".join(f"{name}: {count} rows" for name, count in rows.items()))
    return written


def _events(xml_path: Path):
    """(event, element, line) as ``ET.iterparse`` gives (event, element), with the line each element
    starts on: the file is fed to the parser a line at a time, as the CIN census converter does."""
    parser = ET.XMLPullParser(events=("start", "end"))
    line_number = 0
    with Path(xml_path).open("rb") as fh:
        for line_number, line in enumerate(fh, start=1):
            parser.feed(line)
            for event, element in parser.read_events():
                yield event, element, line_number
    parser.close()
    for event, element in parser.read_events():
        yield event, element, line_number


def _write_children(xml_path: Path, writers: dict[str, Any], lines: dict[str, list[int]]) -> Counter:
    """Stream the file, writing each CHILD's rows as soon as the child ends. Returns the rows written per file.

    ``lines`` gets, per file, the XML line of each row written: its group element's, or the CHILD's."""
    rows: Counter = Counter({name: 0 for name in TABLE_COLUMNS})
    unknown: set[str] = set()
    root = None
    depth = 0  # of the current element; the root is depth 1, a CHILD depth 2
    child_fields: dict[str, str] = {}  # the child's own values (outside any group)
    groups: list[tuple[str, dict[str, str]]] = []  # (table, values) for each group element of the child
    group: dict[str, str] | None = None  # the group element being read
    child_line, group_lines = 0, []
    try:
        for event, element, line_number in _events(xml_path):
            name = _local_name(element.tag)
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                elif depth == 2 and name == CHILD_ELEMENT:
                    child_fields, groups, group = {}, [], None
                    child_line, group_lines = line_number, []
                elif depth > 2 and name in GROUP_TABLES:
                    group = {}
                    groups.append((GROUP_TABLES[name], group))
                    group_lines.append(line_number)
                continue
            depth -= 1
            if depth == 1:  # an element directly under the root ended: a CHILD, or something else
                if name == CHILD_ELEMENT:
                    tables = _write_child(writers, child_fields, groups)
                    rows.update(tables)
                    row_lines = [child_line] * (len(tables) - len(groups)) + group_lines
                    for table, line in zip(tables, row_lines):
                        lines[table].append(line)
                root.clear()  # drop the finished element from the tree: memory stays flat
            elif depth >= 2 and name in GROUP_TABLES:
                group = None
            elif depth >= 2 and len(element) == 0:  # a leaf: one value
                column = RENAMED.get(name, name)
                value = _csv_value(column, element.text)
                if group is not None:
                    group[column] = value
                else:
                    child_fields[column] = value
                if column not in ALL_COLUMNS:
                    unknown.add(name)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise _rejected(xml_path, f"line {line}, column {column + 1}: not well-formed XML ({reason}). "
                                  "Ask the sender to export the whole 903 XML file again.") from None
    if unknown:
        log.warning("%s: elements not in any 903 table were ignored: %s", xml_path, ", ".join(sorted(unknown)))
    return rows


def _write_child(writers: dict[str, Any], child: dict[str, str], groups: list[tuple[str, dict[str, str]]]) -> list[str]:
    """Write one child's rows; returns the file name of each row written."""
    def row(table: str, values: dict[str, str]) -> list[str]:
        # A group's own value wins; CHILD, DOB and SEX come from the child's header.
        return [values.get(c, child.get(c, "")) for c in TABLE_COLUMNS[table]]

    tables = ["header.csv"]
    for table, markers in CHILD_TABLE_MARKERS.items():
        present = _is_uasc(child) if table == "uasc.csv" else any(child.get(m, "") for m in markers)
        if present:
            tables.append(table)
    for table in tables:
        writers[table].writerow(row(table, child))
    for table, values in groups:
        writers[table].writerow(row(table, values))
    return tables + [table for table, _ in groups]


def _is_uasc(child: dict[str, str]) -> bool:
    """The child was an unaccompanied asylum-seeking child: the UASC flag is set (not 0), or a DUC is given."""
    return child.get("UASC", "") not in ("", "0") or bool(child.get("DUC", ""))


def _csv_value(column: str, text: str | None) -> str:
    value = (text or "").strip()
    if column in DATE_COLUMNS:
        return _dmy(value)
    return value


def _dmy(value: str) -> str:
    """An xs:date (YYYY-MM-DD) as dd/mm/yyyy; anything else (dd/mm/yyyy already, or not a date) as delivered."""
    match = XML_DATE.fullmatch(value)
    if not match:
        return value
    year, month, day = (int(g) for g in match.groups())
    try:
        date(year, month, day)
    except ValueError:
        return value  # 2017-02-30: left as it came, so the loader quarantines it naming the value
    return f"{day:02d}/{month:02d}/{year:04d}"


def _rejected(xml_path: Path, problem: str) -> RejectedFile:
    """The error for a file that cannot be converted; ``path`` lets the importer record the file in the manifest."""
    error = RejectedFile(f"{xml_path}: {problem}")
    error.path = str(xml_path)
    return error


def _local_name(tag: str) -> str:
    """An element's name without its namespace: '{urn:x}CHILD' -> 'CHILD'."""
    return tag.rsplit("}", 1)[-1]
