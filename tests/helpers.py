"""Small helpers shared by the tests."""

import csv
import functools
import json
import os
import shutil
from pathlib import Path

import pytest


@functools.cache
def dbt_vars() -> dict:
    """The dbt project's vars (dbt_project/dbt_project.yml): every statutory timescale and local
    threshold, declared once. Tests read their limits here instead of repeating 72 or 5."""
    import yaml

    from warehouse.settings import DBT_PROJECT_DIR

    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def dbt_var(name: str):
    """One dbt var's default, e.g. dbt_var("rhi_timescale_hours") -> 72."""
    return dbt_vars()[name]


def query(conn, sql: str, params=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.commit()
    return rows


def fresh_database(settings, name: str, **changes):
    """Settings for a new, empty database `name` on the test server (dropped first if it is there).

    A module that builds its own warehouse (dbt runs, published marts) uses one, so it neither
    sees nor disturbs the session database the other tests share. `changes`: other settings to
    replace (e.g. landing_dir)."""
    import dataclasses

    from warehouse import db

    drop_database(settings, name)
    admin = db.connect(settings, autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    admin.close()
    return dataclasses.replace(settings, connection=dataclasses.replace(settings.connection, dbname=name), **changes)


def drop_database(settings, name: str) -> None:
    from warehouse import db

    admin = db.connect(settings, autocommit=True)
    with admin.cursor() as cur:
        # (force): a quality gate's SQLAlchemy pool may still hold sessions on it.
        cur.execute(f"drop database if exists {name} with (force)")
    admin.close()


def edit_csv(path: Path, edit) -> None:
    """Rewrite a delivered file: `edit(rows)` returns the new list of rows (dicts)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows = edit(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def change_row(rows: list[dict], key: str, key_value: str, **changes) -> list[dict]:
    [row] = [r for r in rows if r[key] == key_value]
    row.update(changes)
    return rows


def dbt_results(settings, target: Path, night, *args: str) -> tuple[int, list[dict]]:
    """`dbt <args>` for `night` with its own target folder; its exit code and run_results' results."""
    from warehouse.dbt import run_dbt

    code = run_dbt(settings, [*args, "--target-path", str(target), "--log-path", str(target / "logs")],
                   extract_date=night.isoformat(), check=False)
    return code, json.loads((target / "run_results.json").read_text())["results"]


def publish_stand_in_build(conn, run_id: str, extract_date=None) -> list[str]:
    """Publish whatever a test put in marts_build, as a run does: claim the build, record a gate
    that passed it (no expectations: the test's tables stand in for marts), then the real publish
    step's swap, which checks both. For tests about what happens after publication (grants)."""
    import datetime

    from warehouse import dq
    from publication import builds, publish

    extract_date = extract_date or datetime.date(2026, 1, 1)
    build = builds.claim_build(conn, run_id=run_id, extract_date=extract_date)
    dq.record_validation(conn, run_id=run_id, extract_date=extract_date, checkpoint="nightly_marts",
                         gx_run_name="stand-in", results=[], data_docs=None)
    builds.record_gate(conn, build, passed=True, checked=builds.current_fingerprint(conn))
    return publish.publish(conn, run_id=run_id)


def chromium() -> str:
    """Debian's Chromium, for the browser tests (no browser download here): skipped where it is
    missing, but a failure on CI, which installs it (.ci/run)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        message = "chromium is not installed (apt-get install -y chromium; .ci/run does this on CI)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
