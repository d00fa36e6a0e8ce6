"""Shared fixtures: one real embedded PostgreSQL for the whole test session.

The server gets its own state folder and a free port, so tests never touch a
developer's `make run` warehouse (port 55432, .local/). The settings are put in
os.environ so that subprocesses (dbt, Airflow, the CLI) see the same warehouse.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

# Per test process, throwaway: Airflow's home (Airflow reads its configuration when first imported,
# so before any test imports it: the tests never touch ~/airflow or .local/airflow), dbt's target
# folder, and Great Expectations' run output. `make test` runs the modules in several processes at
# once (pytest-xdist), each with its own warehouse: two builds must not read each other's run
# results, Data Docs or Airflow runs (warehouse/dbt.py, warehouse/settings.py). An xdist worker
# inherits the environment of the process that started it, so a worker always makes its own.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
for _setting, _prefix in (("AIRFLOW_HOME", "airflow-home-"), ("DBT_TARGET_PATH", "dbt-target-"),
                          ("DBT_LOG_PATH", "dbt-logs-"), ("SAFEGUARDING_GX_PROJECT_DIR", "gx-project-")):
    if _setting not in os.environ or _WORKER:
        os.environ[_setting] = tempfile.mkdtemp(prefix=f"{_prefix}{_WORKER or 'main'}-")
        atexit.register(shutil.rmtree, os.environ[_setting], ignore_errors=True)  # leave nothing behind
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parent.parent / "dags")

TEST_KEY = "test-pseudonymisation-key-not-a-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from warehouse import embedded_postgres
    from warehouse.settings import load

    state = tmp_path_factory.mktemp("state")
    overrides = {
        "SAFEGUARDING_STATE_DIR": str(state),
        "SAFEGUARDING_PG_PORT": str(free_port()),
        "SAFEGUARDING_PSEUDONYMISATION_KEY": TEST_KEY,
    }
    saved = {k: os.environ.get(k) for k in [*overrides, "SAFEGUARDING_WAREHOUSE_URL"]}
    os.environ.pop("SAFEGUARDING_WAREHOUSE_URL", None)
    os.environ.update(overrides)
    s = load()
    embedded_postgres.start(s, quiet=True)
    yield s
    embedded_postgres.stop(s)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def conn(settings):
    from warehouse import db

    c = db.connect(settings)
    yield c
    c.rollback()
    c.close()


@pytest.fixture
def landing(tmp_path) -> Path:
    return tmp_path / "landing"


# The night `make run` makes in the tests (tests/test_nightly_run.py checks it; the Airflow UI test,
# tests/test_ops_airflow_ui.py, opens it in a browser). Before 2026-01-01, the DAGs' start date
# until issue #16: Airflow then created a run with no task for it and `safeguarding run` printed
# "Done" with nothing loaded.
NIGHTLY_RUN_NIGHT = date(2025, 11, 22)


@pytest.fixture(scope="session")
def nightly_landing(tmp_path_factory) -> Path:
    """A landing folder of its own: the generator makes an incremental feed's delivery hold only what
    changed since the latest earlier one in the folder, and this night must be a full delivery."""
    return tmp_path_factory.mktemp("nightly-landing")


@pytest.fixture(scope="session")
def nightly_run(settings, nightly_landing):
    """`safeguarding run` (what `make run` runs) for one tiny night, once per session, in the
    session's warehouse and Airflow home. The completed process, with .started and .finished."""
    started = datetime.now(timezone.utc)
    result = subprocess.run(
        [sys.executable, "-m", "safeguarding", "run", "--scale", "tiny", "--extract-date", NIGHTLY_RUN_NIGHT.isoformat()],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ) | {"SAFEGUARDING_LANDING_DIR": str(nightly_landing)})
    result.started, result.finished = started, datetime.now(timezone.utc)
    return result


# --- one night published by the pipeline's own roles, shared by the modules that need one --------

AUDIENCE_DATABASE = "audiences_night"
AUDIENCE_NIGHTS = ("2026-11-15", "2026-11-16")  # the first delivered with quarantined rows, the second published
NIGHTLY_STEPS = ("extract", "apply_retention", "validate_raw", "build_marts", "validate_marts", "publish")
NOBODY = "safeguarding_nobody"  # the warehouse "owner" the steps are given: it cannot even log in


def role_passwords() -> dict[str, str]:
    from warehouse import roles

    return {r.password_setting: f"test-only-{r.name}" for r in roles.ROLES}


@pytest.fixture(scope="session")
def published_night(settings, tmp_path_factory):
    """A tiny night run by the nightly steps (pipeline.nightly.run_step, what each DAG task calls)
    into a database of its own, published with every audience's views (warehouse/audiences.yml).

    The steps are given an external warehouse whose owner is a NOLOGIN role, and the loader's and
    transformer's passwords: a step that connected as anything but its own role would fail. The
    night before is delivered first (with spoiled rows, which the loader quarantines) and only
    loaded, so retention has an older batch and quarantined rows to act on (tests/test_audiences.py).
    """
    from datetime import date

    from synthetic.generate import generate_night
    from warehouse import db, roles
    from pipeline import nightly

    from helpers import fresh_database

    mine = fresh_database(settings, AUDIENCE_DATABASE, landing_dir=tmp_path_factory.mktemp("audiences-landing"))
    passwords = role_passwords()
    conn = db.connect(mine)
    with conn.cursor() as cur:
        cur.execute(f"select 1 from pg_roles where rolname = '{NOBODY}'")
        if cur.fetchone() is None:
            cur.execute(f"create role {NOBODY} nologin")
    conn.commit()
    roles.apply_roles(conn, passwords)
    conn.close()
    first, night = (date.fromisoformat(d) for d in AUDIENCE_NIGHTS)
    files = {first: generate_night(mine.landing_dir, first, scale="tiny", defects=["unknown_code", "bad_date"]),
             night: generate_night(mine.landing_dir, night, scale="tiny")}
    c = mine.connection
    overrides = passwords | {
        "SAFEGUARDING_WAREHOUSE_URL": f"postgresql://{NOBODY}@{c.host}:{c.port}/{c.dbname}",
        "SAFEGUARDING_LANDING_DIR": str(mine.landing_dir),
        "SAFEGUARDING_REGIONAL_POOL_SALT": "test-only-regional-pool-salt",
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        nightly.run_step("extract", first.isoformat())
        for step in NIGHTLY_STEPS:
            nightly.run_step(step, night.isoformat())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield {"settings": mine, "night": night, "first_night": first, "files": files, "passwords": passwords,
           "environ": overrides}


@pytest.fixture(scope="session")
def built_nights(settings, tmp_path_factory):
    """Generated nights built and published once per session, shared read-only (tests/nights.py)."""
    from nights import BuiltNights

    nights = BuiltNights(settings, tmp_path_factory)
    yield nights
    nights.drop_all()


# Modules that use the same costly session fixture run in the same test process under
# `make test` (pytest-xdist; pytest_xdist_make_scheduler below), so the fixture is made once, not once per process.
SAME_PROCESS = {
    "test_nightly_run": "nightly_run",  # nightly_run: `make run` for one night
    "test_ops_airflow_ui": "nightly_run",
    "test_audiences": "published_night",  # published_night: the nightly steps as the pipeline's roles
    "test_bi_dashboards": "published_night",
    "test_retention": "published_night",
    "test_reference": "built_nights",  # built_nights: generated nights built once (tests/nights.py)
    "test_dbt_safeguarding": "built_nights",
    "test_dbt_workforce_front_door": "built_nights",
}


# The night `make run` makes is checked as a healthy night of its own ("published, no warning"):
# its group runs first in its process, before other modules load nights or import returns into
# the session's warehouse.
FIRST_GROUP = "nightly_run"


def _group(module: str) -> str:
    return SAME_PROCESS.get(module, module)


def pytest_collection_modifyitems(config, items):
    """The run order, the same in every process: FIRST_GROUP, then the groups with the most tests
    (so the long ones start early), each group's tests together in their own order."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(_group(item.module.__name__.rpartition(".")[2]), []).append(item)
    order = sorted(groups, key=lambda g: (g != FIRST_GROUP, -len(groups[g])))
    items[:] = [item for group in order for item in groups[group]]


@pytest.hookimpl(optionalhook=True)  # so `-p no:xdist` (one process, no xdist) still loads this file
def pytest_xdist_make_scheduler(config, log):
    """`make test` (pytest-xdist): a module's tests run together, in order, in one process, and so
    do the modules in SAME_PROCESS; the groups are handed out in the collection's order (above).
    (xdist's own xdist_group marks do nothing under pytest 9.)"""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class ModulesSharingFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid.split("::", 1)[0].rpartition("/")[2].removesuffix(".py"))

    return ModulesSharingFixtures(config, log)
