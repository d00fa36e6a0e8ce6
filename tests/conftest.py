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

# Airflow reads its configuration when first imported: point it at a throwaway home
# before any test imports it, so the tests never touch ~/airflow or .local/airflow.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)  # leave no home behind
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
        [sys.executable, "-m", "warehouse", "run", "--scale", "tiny", "--extract-date", NIGHTLY_RUN_NIGHT.isoformat()],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ) | {"SAFEGUARDING_LANDING_DIR": str(nightly_landing)})
    result.started, result.finished = started, datetime.now(timezone.utc)
    return result


@pytest.fixture(scope="session")
def built_nights(settings, tmp_path_factory):
    """Generated nights built and published once per session, shared read-only (tests/nights.py)."""
    from nights import BuiltNights

    nights = BuiltNights(settings, tmp_path_factory)
    yield nights
    nights.drop_all()
