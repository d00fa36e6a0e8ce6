"""dbt's dry run, `dbt build --empty`, builds every model over no rows, and leaves history alone.

`--empty` (dbt 1.8+) turns each ref and source into a subquery that returns no rows, so every
model's SQL, contract and data tests run against PostgreSQL in seconds without reading data:
the check a change to a model can get before a real build. dbt gives that subquery an alias of
its own, so a model that writes `{{ ref('x') }} as x` breaks under it: models read refs through
import CTEs instead (README, "Changing a model"). A snapshot over no rows would close every
open row of its history, so snapshots refuse to run under `--empty` (macros/snapshots.sql) and
the dry run leaves them out.

The module loads one tiny night into a database of its own and snapshots it (the sources must
exist, and the snapshots need rows to protect), then runs the dry run and the refused snapshot.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from warehouse import db

from helpers import dbt_results, drop_database, fresh_database, query

pytestmark = pytest.mark.slow

DATABASE = "test_empty"
NIGHT = date(2026, 11, 21)
DRY_RUN = ["build", "--empty", "--exclude-resource-type", "unit_test", "--exclude", "resource_type:snapshot"]
ROW_LEVEL_MARTS = ("mart_return_home_interviews", "mart_pathway_plans", "mart_looked_after_children",
                   "mart_front_door_contacts", "mart_child_protection_plans")
SNAPSHOTS = ("snp_crs__people", "snp_crs__looked_after_episodes")


@pytest.fixture(scope="module")
def warehouse(settings, tmp_path_factory):
    """A database with one tiny night loaded and snapshotted; yields (settings, conn, target folder)."""
    from synthetic.generate import generate_night
    from extract.load_night import load_night
    from warehouse.pseudonymisation import install_key

    mine = fresh_database(settings, DATABASE, landing_dir=tmp_path_factory.mktemp("landing"))
    target = tmp_path_factory.mktemp("dbt-target")
    conn = db.connect(mine)
    install_key(conn, mine)
    generate_night(mine.landing_dir, NIGHT, scale="tiny")
    load_night(mine, NIGHT)
    assert dbt(mine, target, "run", "--select", "+resource_type:snapshot")[0] == 0, "staging the night failed"
    assert dbt(mine, target, "snapshot")[0] == 0, "snapshotting the night failed"
    yield mine, conn, target
    conn.close()
    drop_database(settings, DATABASE)


def dbt(settings, target: Path, *args: str) -> tuple[int, list[dict]]:
    return dbt_results(settings, target, NIGHT, *args)


def test_the_dry_run_builds_every_model_and_runs_every_test_over_no_rows(warehouse):
    settings, conn, target = warehouse

    returncode, results = dbt(settings, target, *DRY_RUN)

    failed = [f"{r['unique_id']}: {r['status']}: {r.get('message')}" for r in results
              if r["status"] not in ("success", "pass", "no-op")]  # no-op: the exposures
    assert returncode == 0 and not failed, "dbt build --empty failed:\n" + "\n".join(failed)
    manifest = json.loads((target / "manifest.json").read_text())
    models = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    assert models <= {r["unique_id"] for r in results}, "some models were not built"
    # The marts of one row per child, episode or contact read no rows (a monthly mart still has
    # its months, with zero counts).
    with_rows = [t for t in ROW_LEVEL_MARTS if query(conn, f"select exists (select from marts_build.{t})")[0][0]]
    assert not with_rows, f"--empty should read no rows, but these marts have some: {with_rows}"


def test_a_snapshot_refuses_to_run_over_no_rows_and_keeps_its_history(warehouse):
    settings, conn, target = warehouse

    def open_rows() -> dict[str, int]:
        return {s: query(conn, f"select count(*) from snapshots.{s} where dbt_valid_to is null")[0][0]
                for s in SNAPSHOTS}

    before = open_rows()
    assert all(before.values()), f"the fixture should have snapshotted rows: {before}"

    returncode, results = dbt(settings, target, "build", "--empty", "--select", "resource_type:snapshot")

    assert returncode != 0, "a snapshot under --empty must fail, not close its rows"
    messages = {r["unique_id"].split(".")[-1]: r.get("message") or "" for r in results}
    for snapshot in SNAPSHOTS:
        assert "refused to run under --empty" in messages[snapshot], messages
    assert open_rows() == before, "the snapshots' open rows changed under --empty"
