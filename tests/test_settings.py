"""Settings: one variable points everything at a warehouse; wrong settings give clear errors."""

import socket

import pytest

from warehouse import db, embedded_postgres
from warehouse.settings import ConfigurationError, WarehouseConnection, load


def test_embedded_default_listens_on_loopback_tcp(tmp_path):
    s = load({"SAFEGUARDING_STATE_DIR": str(tmp_path)})
    assert s.embedded
    assert (s.connection.host, s.connection.port, s.connection.dbname) == ("127.0.0.1", 55432, "safeguarding")
    # The embedded default makes its own key, outside the repository, and keeps it.
    assert len(s.pseudonymisation_key) == 64
    assert load({"SAFEGUARDING_STATE_DIR": str(tmp_path)}).pseudonymisation_key == s.pseudonymisation_key


def test_one_url_points_dbt_and_everything_at_an_external_warehouse(tmp_path):
    s = load({
        "SAFEGUARDING_STATE_DIR": str(tmp_path),
        "SAFEGUARDING_WAREHOUSE_URL": "postgresql://loader:p%40ss@db.example.org:6543/safe",
        "SAFEGUARDING_PSEUDONYMISATION_KEY": "k" * 32,
    })
    assert not s.embedded
    env = s.dbt_env()
    assert (env["SAFEGUARDING_DB_HOST"], env["SAFEGUARDING_DB_PORT"], env["SAFEGUARDING_DB_USER"],
            env["SAFEGUARDING_DB_PASSWORD"], env["SAFEGUARDING_DB_NAME"]) == (
        "db.example.org", "6543", "loader", "p@ss", "safe")
    assert "p@ss" not in s.connection.display_url and "***" in s.connection.display_url


@pytest.mark.parametrize("url, words", [
    ("mysql://x@h/db", "must start with postgresql://"),
    ("postgresql://x@h:5432/", "no database name"),
])
def test_malformed_url_is_explained(url, words):
    with pytest.raises(ConfigurationError, match=words):
        WarehouseConnection.from_url(url)


def test_external_warehouse_requires_a_key_from_the_environment(tmp_path):
    with pytest.raises(ConfigurationError, match="SAFEGUARDING_PSEUDONYMISATION_KEY is not set"):
        load({"SAFEGUARDING_STATE_DIR": str(tmp_path), "SAFEGUARDING_WAREHOUSE_URL": "postgresql://u@h/db"})


def test_bad_port_setting_is_explained(tmp_path):
    with pytest.raises(ConfigurationError, match="SAFEGUARDING_PG_PORT must be a port number"):
        load({"SAFEGUARDING_STATE_DIR": str(tmp_path), "SAFEGUARDING_PG_PORT": "fifty"})


def test_unreachable_external_warehouse_gives_a_clear_message(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load({
        "SAFEGUARDING_STATE_DIR": str(tmp_path),
        "SAFEGUARDING_WAREHOUSE_URL": f"postgresql://u:secret@127.0.0.1:{port}/db",
        "SAFEGUARDING_PSEUDONYMISATION_KEY": "k" * 32,
    })
    with pytest.raises(ConfigurationError) as err:
        db.connect(settings)
    message = str(err.value)
    assert f"Cannot connect to the warehouse at postgresql://u:***@127.0.0.1:{port}/db" in message
    assert "Check SAFEGUARDING_WAREHOUSE_URL" in message
    assert "secret" not in message


def test_port_taken_by_another_program_gives_a_clear_message(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        settings = load({"SAFEGUARDING_STATE_DIR": str(tmp_path), "SAFEGUARDING_PG_PORT": str(port)})
        with pytest.raises(ConfigurationError, match=f"Port {port} on 127.0.0.1 is already in use"):
            embedded_postgres.start(settings, quiet=True)


def test_cli_reports_a_wrong_setting_without_a_traceback(tmp_path, capsys, monkeypatch):
    from safeguarding.cli import main

    monkeypatch.setenv("SAFEGUARDING_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("SAFEGUARDING_PG_PORT", "99999")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "SAFEGUARDING_PG_PORT must be a port number" in err and "Traceback" not in err
