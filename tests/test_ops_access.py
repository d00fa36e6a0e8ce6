"""The embedded warehouse asks every role for its password, and children's data on disk is the owner's only.

* scram-sha-256 for every role, the superuser included: a wrong password is refused (it used to be
  `trust`: any password, or none, logged in as anyone); a server made before that is switched
  over on its next start;
* the state folder (database files, landing files, secrets) and the landing files are owner only.
"""

from __future__ import annotations

import stat
from datetime import date

import psycopg2
import pytest

from warehouse import db, embedded_postgres, roles
from warehouse.settings import load, local_superuser_password_file

from conftest import TEST_KEY, free_port
from helpers import query

BI_PASSWORD = "test-only-partnership-password"
BI = roles.DECLARATION.audience("partnership")  # the role BI tools connect as


def connect(settings, user: str, password: str | None):
    c = settings.connection
    return psycopg2.connect(host=c.host, port=c.port, dbname=c.dbname, user=user, password=password,
                            connect_timeout=10)


@pytest.mark.parametrize("password", ["wrong", "", None], ids=["wrong", "empty", "none"])
def test_the_superuser_is_refused_without_its_password(settings, password):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed|no password supplied"):
        connect(settings, settings.connection.user, password).close()
    connect(settings, settings.connection.user, settings.connection.password).close()  # its own one works


def test_a_role_is_refused_with_a_wrong_password(settings, conn):
    roles.apply_roles(conn, {BI.password_setting: BI_PASSWORD,
                             roles.LOADER.password_setting: "test-only-loader-password"})
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(settings, BI.name, "not-its-password").close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(settings, roles.LOADER.name, BI_PASSWORD).close()  # another role's password
    connect(settings, BI.name, BI_PASSWORD).close()


def test_no_connection_is_trusted(conn):
    rules = query(conn, "select type, auth_method from pg_hba_file_rules order by rule_number")
    assert rules and {method for _, method in rules} == {"scram-sha-256"}, rules
    assert query(conn, "show password_encryption") == [("scram-sha-256",)]


def test_the_superuser_password_is_generated_into_the_state_folder_owner_only(settings):
    secret = local_superuser_password_file(settings.state_dir)
    assert secret.read_text().strip() == settings.connection.password and len(settings.connection.password) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700


def test_a_warehouse_made_with_trust_is_switched_to_passwords_on_its_next_start(tmp_path):
    """What `make run` does to a .local warehouse initialised before passwords were required."""
    mine = load({"SAFEGUARDING_STATE_DIR": str(tmp_path / "state"), "SAFEGUARDING_PG_PORT": str(free_port()),
                 "SAFEGUARDING_PSEUDONYMISATION_KEY": TEST_KEY})
    embedded_postgres.start(mine, quiet=True)
    try:
        # As the server was: trust for everyone, and a superuser with no password.
        hba = mine.pgdata_dir / "pg_hba.conf"
        hba.write_text("host all all 127.0.0.1/32 trust\n")
        admin = db.connect(mine, autocommit=True)
        with admin.cursor() as cur:
            cur.execute("select pg_reload_conf()")
            cur.execute(f"alter role {mine.connection.user} password null")
        admin.close()
        connect(mine, mine.connection.user, "anything").close()  # trust: anyone is let in

        embedded_postgres.start(mine, quiet=True)  # already running: checks it, and switches it over

        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(mine, mine.connection.user, "anything").close()
        connect(mine, mine.connection.user, mine.connection.password).close()
    finally:
        embedded_postgres.stop(mine)
    # And after a restart, still.
    embedded_postgres.start(mine, quiet=True)
    try:
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(mine, mine.connection.user, "anything").close()
    finally:
        embedded_postgres.stop(mine)


def test_the_state_folder_and_the_landing_files_are_the_owners_only(settings, tmp_path):
    from extract.feeds import CRS_PEOPLE
    from synthetic.generate import generate_night

    # The state folder: nobody else may enter (as root, the server's own group may pass through it,
    # to reach its data folder, and read nothing).
    mode = stat.S_IMODE(settings.state_dir.stat().st_mode)
    assert mode & 0o007 == 0 and mode & 0o060 == 0, oct(mode)
    assert stat.S_IMODE(settings.pgdata_dir.stat().st_mode) == 0o700
    # Landing files: generated (as the SQL-source spool does too) owner only, folders and files.
    landing = tmp_path / "landing"
    night = generate_night(landing, date(2026, 11, 22), scale="tiny", feeds=[CRS_PEOPLE])
    [path] = night.files.values()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, landing):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert not [p for p in landing.rglob("*") if stat.S_IMODE(p.stat().st_mode) & 0o077]


def test_the_psql_line_printed_after_a_run_does_not_show_the_password(settings):
    from safeguarding.cli import _psql_command

    line = _psql_command(settings)
    assert settings.connection.password not in line + settings.connection.display_url
    assert str(local_superuser_password_file(settings.state_dir)) in line  # read from its file instead
