"""Built nights shared by the whole test session: generated, loaded, built, validated, published.

A night costs a minute or more to build, so each (scale, extract date) is built once per pytest
session, on first use, in a database of its own, by the nightly run's own steps
(pipeline/nightly.py): `extract` (the loader), `build_marts` (the nightly `dbt build`, unit tests
left out as every night), `validate_marts` (the Great Expectations gate) and `publish_marts` (the
write-audit-publish swap into `marts`). The raw gate (`validate_raw`) is left out: it changes no
mart. Use it through the `built_nights` fixture (tests/conftest.py):

    def test_something(built_nights):
        night = built_nights.get("tiny", date(2026, 11, 22))
        rows = night.query("select count(*) from marts.mart_return_home_interviews")

`built_nights.returns(folder, year)` does the same for a folder of statutory returns: the
returns pipeline's `import_returns` step (docs/returns.md) instead of `extract`, as at 31 March.

A module that changes a night's data must build its own night instead: these are shared, read only.
Those that do (each night is its own, so none can be shared): test_numbers (hand-edited rows and
reference data), test_dbt_returns_coverage (a returns-only night written by hand),
test_reference_timing (hypothesis' rows), test_dbt_empty (`dbt build --empty`), test_dbt_incremental
(a history of nights). `load_files` below is the load-and-key step of the two that load files
one by one (test_dbt_returns_coverage, test_reference_timing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from helpers import drop_database, fresh_database


@dataclass
class BuiltNight:
    scale: str
    extract_date: date
    settings: object  # warehouse.settings.Settings of the night's own database and landing folder
    files: dict[str, Path]  # feed id -> the generated file
    build_results: list[dict] = field(default_factory=list)  # dbt's run_results of the build

    @property
    def landing_dir(self) -> Path:
        return self.settings.landing_dir

    def connect(self):
        from warehouse import db

        return db.connect(self.settings)

    def query(self, sql: str, params=None) -> pd.DataFrame:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                names = [c.name for c in cur.description]
                rows = cur.fetchall()
            conn.rollback()
        finally:
            conn.close()
        return pd.DataFrame(rows, columns=names)


class BuiltNights:
    def __init__(self, settings, tmp_path_factory):
        self._settings = settings
        self._tmp = tmp_path_factory
        self._nights: dict[tuple, BuiltNight] = {}

    def get(self, scale: str, extract_date: date, seed: int | None = None) -> BuiltNight:
        key = (scale, extract_date, seed)
        if key not in self._nights:
            self._nights[key] = self._build(scale, extract_date, seed)
        return self._nights[key]

    def returns(self, folder: Path, year: int) -> BuiltNight:
        """A folder of statutory returns imported, built and published as at 31 March `year`."""
        key = ("returns", Path(folder).resolve(), year)
        if key not in self._nights:
            self._nights[key] = self._build_returns(Path(folder), year)
        return self._nights[key]

    def _build_returns(self, folder: Path, year: int) -> BuiltNight:
        from extract.returns import collection_date
        from pipeline import nightly

        as_at = collection_date(year)
        name = f"returns_{folder.name.lower()}_{year}"
        mine = fresh_database(self._settings, name, landing_dir=self._tmp.mktemp(f"{name}-landing"))
        nightly.import_returns(as_at, str(folder), mine)
        return self._publish(BuiltNight("returns", as_at, mine, {}))

    def _build(self, scale: str, extract_date: date, seed: int | None) -> BuiltNight:
        from synthetic.generate import generate_night
        from pipeline import nightly

        name = f"night_{scale}_{extract_date:%Y%m%d}" + (f"_{seed}" if seed is not None else "")
        mine = fresh_database(self._settings, name, landing_dir=self._tmp.mktemp(f"{name}-landing"))
        generated = generate_night(mine.landing_dir, extract_date, scale=scale,
                                   **({"seed": seed} if seed is not None else {}))
        nightly.extract(extract_date, mine)
        return self._publish(BuiltNight(scale, extract_date, mine, dict(generated.files)))

    @staticmethod
    def _publish(night: BuiltNight) -> BuiltNight:
        from pipeline import nightly
        from warehouse.dbt import dbt_target_dir

        nightly.build_marts(night.extract_date, night.settings)
        night.build_results = json.loads((dbt_target_dir() / "run_results.json").read_text())["results"]
        nightly.validate_marts(night.extract_date, night.settings)
        nightly.publish_marts(night.extract_date, night.settings)
        return night

    def drop_all(self) -> None:
        for night in self._nights.values():
            drop_database(self._settings, night.settings.connection.dbname)


def load_files(settings, files: dict, extract_date: date, feeds=None) -> dict:
    """For a module that must build a night of its own (rows of its own, not one of the shared nights
    above): every raw table of `feeds` (default every feed) created, as dbt's sources need them
    whether delivered or not; `files` ({feed id: path}) loaded with the real loader for
    `extract_date`; the pseudonymisation key installed. Then `dbt build` it (helpers.dbt_results).
    Returns {feed id: the loader's result}."""
    from extract.feeds import FEEDS, FEEDS_BY_ID
    from extract.load import load_file, prepare
    from warehouse import db
    from warehouse.pseudonymisation import install_key

    conn = db.connect(settings)
    try:
        for feed in feeds or FEEDS:
            prepare(conn, feed)
        results = {feed_id: load_file(conn, FEEDS_BY_ID[feed_id], path, extract_date) for feed_id, path in files.items()}
        install_key(conn, settings)
    finally:
        conn.close()
    return results
