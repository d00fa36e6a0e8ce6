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
import tempfile
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
