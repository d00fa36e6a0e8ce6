"""Comparing the reference with a mart, row by row, and saying where they differ, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pandas as pd

# A numeric cell equal within these: FTE and counts are numeric(…, 2) in the marts, values and
# rates are rounded to 4 places, hours to 2.
TOLERANCE = {"value": Decimal("0.00006"), "numerator": Decimal("0.005"), "denominator": Decimal("0.005")}
DEFAULT_TOLERANCE = Decimal("0.006")


@dataclass
class Difference:
    key: tuple
    column: str
    reference: object
    mart: object


def canonical(value):
    """One spelling per value: None for every kind of null, UTC ISO text for instants, Decimal for numbers."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, datetime):
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    if isinstance(value, date):
        return value
    if isinstance(value, (bool,)):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return canonical(value.item())
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    return value


def _equal(column: str, a, b) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return abs(a - b) <= TOLERANCE.get(column, DEFAULT_TOLERANCE)
    return a == b


def compare_rows(reference: pd.DataFrame, mart: pd.DataFrame, keys: list[str], columns: list[str],
                 only_when=None) -> list[Difference]:
    """Every difference between two tables with the same key: rows only one side has (column
    "(row)"), and cells that differ. `only_when(reference_row) -> set of columns` limits the cells
    compared on a row (e.g. flags only where the reference counts the row)."""
    def by_key(frame):
        rows, count = {}, {}
        for k, r in zip(frame[keys].itertuples(index=False, name=None), frame.to_dict("records")):
            k = tuple(canonical(v) for v in k)
            rows[k], count[k] = r, count.get(k, 0) + 1
        return rows, count

    (ref, ref_count), (got, got_count) = by_key(reference), by_key(mart)
    differences = []
    for k in sorted(set(ref) | set(got), key=lambda k: tuple(str(x) for x in k)):
        if ref_count.get(k, 0) > 1 or got_count.get(k, 0) > 1:  # one row per key, or the key is not one
            differences.append(Difference(k, "(rows with this key)", ref_count.get(k, 0), got_count.get(k, 0)))
        if k not in got:
            differences.append(Difference(k, "(row)", "present", "missing"))
            continue
        if k not in ref:
            differences.append(Difference(k, "(row)", "missing", "present"))
            continue
        wanted = columns if only_when is None else [c for c in columns if c in only_when(ref[k])]
        for column in wanted:
            a, b = canonical(ref[k].get(column)), canonical(got[k].get(column))
            if not _equal(column, a, b):
                differences.append(Difference(k, column, a, b))
    return differences


def side_by_side(differences: list[Difference], keys: list[str], limit: int = 20) -> str:
    """The first differing rows as a table: key, column, reference, mart."""
    if not differences:
        return "no differences"
    lines = [f"{len(differences)} difference(s); the first {min(limit, len(differences))}:",
             f"{' / '.join(keys):60} {'column':32} {'reference':32} mart"]
    for d in differences[:limit]:
        key = " / ".join(str(k) for k in d.key)
        lines.append(f"{key[:60]:60} {d.column:32} {str(d.reference)[:32]:32} {d.mart}")
    by_column: dict[str, int] = {}
    for d in differences:
        by_column[d.column] = by_column.get(d.column, 0) + 1
    lines.append("by column: " + ", ".join(f"{c} {n}" for c, n in sorted(by_column.items(), key=lambda x: -x[1])))
    return "\n".join(lines)


SCORECARD_KEYS = ["measure_id", "measure_month"]
SCORECARD_COLUMNS = ["numerator", "denominator", "value", "rag_status", "is_suppressed", "is_measurable"]


def without_empty_months(scorecard: pd.DataFrame) -> pd.DataFrame:
    """A measurable month with nothing counted (0 of 0, no value) says the same as no row at all:
    DECISION: both mean "nothing to measure this month", so such rows are left out on both sides."""
    empty = (scorecard["is_measurable"].astype(bool) & ~scorecard["is_suppressed"].astype(bool)
             & scorecard["denominator"].map(lambda d: d is None or d != d or d == 0)
             & scorecard["numerator"].map(lambda n: n is None or n != n or n == 0))
    return scorecard[~empty]


def compare_scorecards(reference: pd.DataFrame, mart: pd.DataFrame) -> list[Difference]:
    return compare_rows(without_empty_months(reference), without_empty_months(mart), SCORECARD_KEYS,
                        SCORECARD_COLUMNS)
