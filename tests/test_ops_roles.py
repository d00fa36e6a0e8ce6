"""Access control: connect as each role and show what it can and cannot read.

Runs in its own database on the session's PostgreSQL (roles are server-wide,
grants are per database), with a small stand-in for each zone: a raw table, the
key pads (written by the real install_key), a build published by the real
publish step, a dq result table. So it never swaps the marts other tests read.
"""

from __future__ import annotations

import dataclasses

import psycopg2
import pytest

from warehouse import db, publish, pseudonymisation, roles

from helpers import publish_stand_in_build

PASSWORDS = {r.password_setting: f"test-only-{r.name}" for r in roles.ROLES}


@pytest.fixture(scope="module")
def roles_db(settings):
    """A database with one table per zone, roles applied, and a night published."""
    admin = db.connect(settings)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("drop database if exists roles_test")
        cur.execute("create database roles_test")
    admin.close()
    test_settings = dataclasses.replace(settings, connection=dataclasses.replace(settings.connection,
                                                                                 dbname="roles_test"))
    conn = db.connect(test_settings)
    with conn.cursor() as cur:
        cur.execute("create schema raw")
        cur.execute("create table raw.crs__people (person_id text, forename text)")
        cur.execute("insert into raw.crs__people values ('P1', 'not a real name')")
        cur.execute("create table raw.load_manifest (feed text, status text)")
        cur.execute("insert into raw.load_manifest values ('crs__people', 'loaded')")
    conn.commit()
    pseudonymisation.install_key(conn, test_settings)
    roles.apply_roles(conn, PASSWORDS)
    with conn.cursor() as cur:  # what a night's pipeline does after the roles exist
        cur.execute("create table dq.expectation_results (suite text, success boolean)")
        cur.execute("insert into dq.expectation_results values ('raw', true)")
        cur.execute("create schema marts_build")
        cur.execute("create table marts_build.mart_example (person_key text, episode_count integer)")
        cur.execute("insert into marts_build.mart_example values (repeat('a', 64), 3)")
        cur.execute("create table staging.stg_example as select 1 as x")
    conn.commit()
    publish_stand_in_build(conn, "roles_test_night_1")
    yield test_settings
    conn.close()


def connect_as(settings, role: str):
    """Log in as a role with its password (the embedded server asks every role for one)."""
    password = {r.name: PASSWORDS[r.password_setting] for r in roles.ROLES}[role]
    return psycopg2.connect(host=settings.connection.host, port=settings.connection.port,
                            dbname=settings.connection.dbname, user=role, password=password)


def can_read(settings, role: str, table: str) -> bool:
    conn = connect_as(settings, role)
    try:
        with conn.cursor() as cur:
            cur.execute(f"select count(*) from {table}")
            return cur.fetchone()[0] >= 0
    except psycopg2.errors.InsufficientPrivilege:
        return False
    finally:
        conn.close()


TABLES = ("raw.crs__people", "raw.load_manifest", "private.pseudonymisation_key", "staging.stg_example",
          "marts.mart_example", "dq.expectation_results")
EXPECTED = {
    "safeguarding_loader": {"raw.crs__people", "raw.load_manifest"},
    "safeguarding_transformer": {"raw.crs__people", "raw.load_manifest", "private.pseudonymisation_key",
                                 "staging.stg_example"},
    "safeguarding_bi_reader": {"marts.mart_example"},
    "safeguarding_auditor": {"marts.mart_example", "dq.expectation_results", "raw.load_manifest"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_reads_exactly_its_zones(roles_db, role):
    readable = {t for t in TABLES if can_read(roles_db, role, t)}
    assert readable == EXPECTED[role]


def test_bi_reader_cannot_read_raw_or_the_key_pads(roles_db):
    for table in ("raw.crs__people", "private.pseudonymisation_key"):
        assert not can_read(roles_db, "safeguarding_bi_reader", table)
    assert can_read(roles_db, "safeguarding_bi_reader", "marts.mart_example")


def test_the_next_publication_is_readable_too(roles_db):
    """publish swaps in a new marts schema every night: the grants must follow it."""
    conn = db.connect(roles_db)
    with conn.cursor() as cur:
        cur.execute("create schema marts_build")
        cur.execute("create table marts_build.mart_new_tonight as select 1 as episode_count")
    conn.commit()
    publish_stand_in_build(conn, "roles_test_night_2")
    conn.close()
    assert can_read(roles_db, "safeguarding_bi_reader", "marts.mart_new_tonight")
    assert can_read(roles_db, "safeguarding_auditor", "marts.mart_new_tonight")


def test_loader_writes_raw_but_not_the_marts(roles_db):
    conn = connect_as(roles_db, "safeguarding_loader")
    try:
        with conn.cursor() as cur:
            cur.execute("create table raw.crs__contacts (contact_id text)")
            cur.execute("insert into raw.crs__contacts values ('C1')")
            conn.commit()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("create table marts.sneaky (x int)")
        conn.rollback()
    finally:
        conn.close()
    # A table the loader created is readable by the transformer (default privileges), not by BI.
    assert can_read(roles_db, "safeguarding_transformer", "raw.crs__contacts")
    assert not can_read(roles_db, "safeguarding_bi_reader", "raw.crs__contacts")


def test_without_a_password_a_role_cannot_log_in(roles_db):
    conn = db.connect(roles_db)
    roles.apply_roles(conn, {k: v for k, v in PASSWORDS.items() if "BI_READER" not in k})
    conn.close()
    try:
        # It has no password to give (NOLOGIN, password null): the server refuses it either way.
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed|not permitted to log in"):
            can_read(roles_db, "safeguarding_bi_reader", "marts.mart_example")
    finally:
        conn = db.connect(roles_db)
        roles.apply_roles(conn, PASSWORDS)
        conn.close()


def test_password_settings_are_named_after_the_roles():
    assert [r.password_setting for r in roles.ROLES] == [
        "SAFEGUARDING_LOADER_PASSWORD", "SAFEGUARDING_TRANSFORMER_PASSWORD",
        "SAFEGUARDING_BI_READER_PASSWORD", "SAFEGUARDING_AUDITOR_PASSWORD"]
    assert set(roles.READER_ROLE_NAMES) == set(publish.READER_ROLES)
