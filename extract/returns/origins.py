"""Where a quarantined row of a statutory return is in the file the council handed over.

A CIN census or 903 XML file, or an Annex A workbook, is converted into CSVs before it is loaded
(extract/returns/), so the loader's quarantine named the converted CSV and its line, and a row
mapped into a nightly feed named only "mapped from ...". Neither is a place the council can open.

Each converter writes, beside each CSV, ``<csv>.origin.json``: the file it came from and, for
each data row of the CSV in order, where that row is in it (the XML line its block starts on, or
the workbook row with the sheet). After an import, ``locate_quarantined`` fills
``raw.quarantine.origin_file`` and ``origin_location`` for the rows the import quarantined:

* a return's own table: its CSV and data row lead to the side-car's position;
* a mapped nightly row: its lineage (``<csv> row <n>``) leads there the same way;
* a return delivered as CSVs (the 903's): the council's CSV itself, and the line.

Locations name a line, a sheet and a row: never a value, so the quality report can show them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

SUFFIX = ".origin.json"
LINE, ROW = "line", "row"  # what a position counts: XML lines, or workbook rows
_LINEAGE = re.compile(r"^(?P<csv>.+) row (?P<n>\d+)$")


def write(csv_path: Path, original: Path, positions: list[int], unit: str, sheet: str | None = None) -> None:
    """Record where each data row of ``csv_path`` comes from in ``original``."""
    Path(str(csv_path) + SUFFIX).write_text(json.dumps(
        {"file": str(Path(original).resolve()), "unit": unit, "sheet": sheet, "positions": positions}))


@lru_cache(maxsize=64)
def _read(csv_path: str, modified: float) -> dict | None:
    side_car = Path(csv_path + SUFFIX)
    return json.loads(side_car.read_text()) if side_car.exists() else None


def read(csv_path: str) -> dict | None:
    side_car = Path(csv_path + SUFFIX)
    return _read(csv_path, side_car.stat().st_mtime) if side_car.exists() else None


def describe(origin: dict, position: int) -> str:
    if origin["unit"] == ROW:
        return f"sheet {origin['sheet']!r}, row {position}"
    return f"line {position}"


def locate(source_file: str, line_number: int) -> tuple[str, str] | None:
    """(the council's file, where in it) of a quarantined row, from the quarantine's source_file and
    line_number; None when it cannot be told."""
    lineage = _LINEAGE.match(source_file)
    if lineage:  # a mapped nightly row: <return CSV> row <n>
        csv_path, n = lineage.group("csv"), int(lineage.group("n"))
        origin = read(csv_path)
        if origin is None:  # a return delivered as CSVs: n is its data row
            return csv_path, f"line {n + 1}"
        if origin["unit"] == ROW:  # Annex A's lineage already counts workbook rows (annex_a.py, _source_row)
            return origin["file"], describe(origin, n)
        return _at(origin, n)
    origin = read(source_file)
    if origin is None:
        return None  # a delivered CSV: source_file and line_number already point into it
    return _at(origin, line_number - 1)


def _at(origin: dict, data_row: int) -> tuple[str, str] | None:
    positions = origin["positions"]
    if not 1 <= data_row <= len(positions):
        return None
    return origin["file"], describe(origin, positions[data_row - 1])


def locate_quarantined(conn, batch_ids: list[int]) -> int:
    """Fill origin_file and origin_location of the batches' quarantined rows; returns how many."""
    if not batch_ids:
        return 0
    with conn.cursor() as cur:
        cur.execute("select distinct batch_id, row_number, source_file, line_number from raw.quarantine "
                    "where batch_id = any(%s) and origin_file is null", (batch_ids,))
        found = [(b, r, located) for b, r, source, line in cur.fetchall() if (located := locate(source, line))]
        for batch_id, row_number, (file, location) in found:
            cur.execute("update raw.quarantine set origin_file = %s, origin_location = %s "
                        "where batch_id = %s and row_number = %s", (file, location, batch_id, row_number))
    conn.commit()
    return len(found)
