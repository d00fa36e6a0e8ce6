"""The statutory returns a council already makes, as feeds: SSDA903, the CIN census and Annex A.

A council that can hand us last year's returns gets working marts the same day,
before anyone builds a nightly extract. Each return is declared here the way a
nightly feed is (extract/feeds.py), with the DfE's own field names and date
format, and goes through the same loader: file-level checks that reject a bad
file naming its line and column, row checks that quarantine bad rows, lineage and
the load manifest. Then each return's rows are *mapped* into batches of the
nightly feeds (``raw.crs__people``, ``raw.crs__looked_after_episodes``, ...) for
the collection's as-at date, so dbt's staging models, the marts, the quality
gates and the reports all run unchanged (extract/returns/importer.py).

A ``StatutoryReturn`` is:

* ``feeds``: its tables as ``Feed`` declarations (source = the return's name,
  e.g. ``ssda903__episodes``), loaded into ``raw.<source>__<table>``;
* ``collect``: finds the return's files in a folder the council hands over and
  returns the CSV file of each of its feeds; files that arrive as XML or Excel
  are converted into CSVs in the landing folder first (the converter rejects a
  malformed file with its line);
* ``mappings``: for each nightly feed it can fill, one SQL ``select`` over its
  raw tables: a plain SQL file, ``extract/returns/mappings/<return>/<nightly feed>.sql``
  (``mapping_sql``), except Annex A's, which are built from the code lists of
  extract/feeds.py (descriptive values become codes) and so stay in annex_a.py.

Raw tables name their columns as declared, in lower case (``CHILD`` is ``child``): write
them unquoted in SQL (``e.DECOM``), which PostgreSQL reads in lower case.

Writing a mapping: the select returns exactly the target feed's columns (text,
in the nightly formats: ISO dates, ``YYYY-MM-DD HH:MM`` date-times, the nightly
code lists) plus ``_source_file`` (text) and ``_source_row`` (bigint), read from
the return's raw tables for ``%(extract_date)s`` only (``where t._extract_date =
%(extract_date)s::date``). A dd/mm/yyyy column ``c`` becomes ISO text (or '' when empty) as
``coalesce(to_char(to_date(nullif(trim(c), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '')``
(``iso_date()`` below, in Python). The select runs with psycopg2's parameters: write a
literal per cent sign as ``%%``. When two returns fill the same feed (a child appears in
the 903 header and in the CIN census), the first return in ``RETURNS`` wins for
a key; the rows of one return are never deduplicated silently: a key delivered
twice is quarantined by the target feed's row checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..feeds import Feed


@dataclass(frozen=True)
class Mapping:
    """How rows of a return become rows of one nightly feed."""

    target: Feed  # the nightly feed the rows become, e.g. feeds.CRS_MISSING_EPISODES
    select: str  # SQL; see the module docstring
    reads: tuple[Feed, ...]  # the return's feeds the select reads: it runs when the first of them was loaded
    note: str = ""  # what the mapping assumes or cannot carry over, for docs/returns.md


@dataclass(frozen=True)
class StatutoryReturn:
    name: str  # the source name of its feeds: ssda903, cin_census, annex_a
    title: str
    feeds: tuple[Feed, ...]
    mappings: tuple[Mapping, ...]
    # (folder handed over, landing folder for this return and collection date) -> {feed id: CSV path}
    collect: Callable[[Path, Path], dict[str, Path]]
    description: str = ""


MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


def mapping_sql(return_name: str, target: Feed) -> str:
    """The select that maps a return's rows into ``target``: mappings/<return>/<target feed id>.sql."""
    return (MAPPINGS_DIR / return_name / f"{target.id}.sql").read_text()


def collection_date(year: int) -> date:
    """The as-at date of a collection year: SSDA903, CIN census and Annex A all count to 31 March."""
    return date(year, 3, 31)


def this_night(alias: str) -> str:
    """SQL: the rows of table ``alias`` in the batch being mapped (the collection date)."""
    return f"{alias}._extract_date = %(extract_date)s::date"


def iso_date(column: str) -> str:
    """SQL: a dd/mm/yyyy text column (already checked by the loader) as ISO text, or '' when empty.

    ``column`` is a column or an SQL expression, e.g. ``iso_date("e.DECOM")``.
    """
    return f"coalesce(to_char(to_date(nullif(trim({column}), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '')"


def csv_files_named(folder: Path, feeds: tuple[Feed, ...]) -> dict[str, Path]:
    """The feeds whose CSV file (``feed.file_name``, any letter case) is in the folder."""
    by_name = {p.name.lower(): p for p in Path(folder).iterdir() if p.is_file()}
    return {f.id: by_name[f.file_name.lower()] for f in feeds if f.file_name.lower() in by_name}
