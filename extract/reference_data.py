"""The council's reference data: its service areas and teams (docs/feeds.md, "Reference data").

A council's structure is data, not code: a "0-25 SEN and Disability" service, a merged
front door, a new adolescent team. It lives in two CSV files in one folder:

    service_areas.csv   service_area (code), service_area_name
    teams.csv           team (as the HR, agency and case recording feeds write it), service_area

The folder is ``SAFEGUARDING_REFERENCE_DATA_DIR``, by default ``dbt_project/reference_data/``
(the generator's synthetic borough). dbt loads the same two files as seeds (dbt_project.yml's
``seed-paths`` read the same variable), so there is one copy of each fact:

* the loader accepts a ``service_area`` in the HR and agency feeds only if it is declared
  here (extract/feeds.py reads the codes from this module) and quarantines any other row,
  naming the file, line and column;
* dbt's data tests hold every service area in staging and in the marts to the seed;
* the generator draws its teams from ``teams.csv``.

Both files are checked when read: a malformed file stops with an error naming the file,
line and column (``ReferenceDataError``), before anything is loaded.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "SAFEGUARDING_REFERENCE_DATA_DIR"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "reference_data"
SERVICE_AREAS_FILE = "service_areas.csv"
TEAMS_FILE = "teams.csv"
# A code as the feeds write it: upper case letters, digits and underscores.
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
# The workforce marts' total rows use this value; a service area cannot be called it.
RESERVED_CODES = frozenset({"ALL"})


class ReferenceDataError(ValueError):
    """A reference data file is malformed; the message names the file, line and column."""


@dataclass(frozen=True)
class ServiceArea:
    code: str
    name: str


@dataclass(frozen=True)
class Team:
    name: str
    service_area: str


def reference_data_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).resolve()


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV whose header must be exactly ``columns``."""
    if not path.is_file():
        raise ReferenceDataError(f"{path}: the reference data file is missing (set {ENV_VAR} to the folder "
                                 f"that holds {SERVICE_AREAS_FILE} and {TEAMS_FILE})")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        if header != columns:
            raise ReferenceDataError(f"{path}: line 1: the header must be {','.join(columns)}, "
                                     f"not {','.join(header) or '(empty)'}")
        rows = []
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise ReferenceDataError(f"{path}: line {reader.line_num}: expected {len(columns)} fields")
            rows.append((reader.line_num, {k: v.strip() for k, v in row.items()}))
    return rows


def service_areas(folder: Path | None = None) -> tuple[ServiceArea, ...]:
    """The declared service areas, checked: codes well formed and unique, names given."""
    path = (folder or reference_data_dir()) / SERVICE_AREAS_FILE
    areas: list[ServiceArea] = []
    seen: dict[str, int] = {}
    for line, row in _rows(path, ("service_area", "service_area_name")):
        code, name = row["service_area"], row["service_area_name"]
        if not CODE_PATTERN.match(code):
            raise ReferenceDataError(f"{path}: line {line}, column service_area: {code!r} is not a code "
                                     "(upper-case letters, digits and underscores, starting with a letter)")
        if code in RESERVED_CODES:
            raise ReferenceDataError(f"{path}: line {line}, column service_area: {code!r} is reserved for the "
                                     "workforce marts' total rows")
        if code in seen:
            raise ReferenceDataError(f"{path}: line {line}, column service_area: {code!r} is already declared "
                                     f"on line {seen[code]}")
        if not name:
            raise ReferenceDataError(f"{path}: line {line}, column service_area_name: empty")
        seen[code] = line
        areas.append(ServiceArea(code, name))
    if not areas:
        raise ReferenceDataError(f"{path}: no service areas declared")
    return tuple(areas)


def teams(folder: Path | None = None) -> tuple[Team, ...]:
    """The declared teams, checked: names unique, each in a declared service area."""
    folder = folder or reference_data_dir()
    codes = {a.code for a in service_areas(folder)}
    path = folder / TEAMS_FILE
    found: list[Team] = []
    seen: dict[str, int] = {}
    for line, row in _rows(path, ("team", "service_area")):
        name, area = row["team"], row["service_area"]
        if not name:
            raise ReferenceDataError(f"{path}: line {line}, column team: empty")
        if name in seen:
            raise ReferenceDataError(f"{path}: line {line}, column team: {name!r} is already declared on line "
                                     f"{seen[name]}")
        if area not in codes:
            raise ReferenceDataError(f"{path}: line {line}, column service_area: {area!r} is not declared in "
                                     f"{folder / SERVICE_AREAS_FILE}")
        seen[name] = line
        found.append(Team(name, area))
    return tuple(found)


def service_area_codes(folder: Path | None = None) -> tuple[str, ...]:
    return tuple(a.code for a in service_areas(folder))
