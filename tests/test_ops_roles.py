"""Access control: connect as each role and show what it can and cannot read.

Runs in its own database on the session's PostgreSQL (roles are server-wide,
grants are per database), with a small stand-in for each zone: a raw table, the
key pads (written by the real install_key), a build made by the transformer and
published by the real publish step (as the transformer, as the nightly step does),
a dq result table. So it never swaps the marts other tests read. The audiences'
views over a real night: tests/test_audiences.py.
"""

from __future__ import annotations

import dataclasses

import psycopg2
import pytest

from warehouse import audiences, db, pseudonymisation, roles
from warehouse.settings import password_setting

from helpers import publish_stand_in_build

PASSWORDS = {r.password_setting: f"test-only-{r.name}" for r in roles.ROLES}
COUNCIL = audiences.declaration().audience("council_analysts").name
PARTNERSHIP = audiences.declaration().audience("partnership").name
AUDITOR = audiences.declaration().audience("auditors").name


def as_role(settings, role: str):
    return dataclasses.replace(settings, connection=dataclasses.replace(
        settings.connection, user=role, password=PASSWORDS[password_setting(role)]))


def publish_as_transformer(settings, run_id: str, *statements: str) -> None:
    """A stand-in build made and published by the transformer, as the nightly steps do."""
    conn = db.connect(as_role(settings, roles.TRANSFORMER.name))
    with conn.cursor() as cur:
        cur.execute("create schema marts_build")
        for statement in statements:
            cur.execute(statement)
    conn.commit()
    publish_stand_in_build(conn, run_id)
    conn.close()


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
    conn.commit()
    pseudonymisation.install_key(conn, test_settings)
    roles.apply_roles(conn, PASSWORDS)  # creates the raw zone's load manifest
    with conn.cursor() as cur:  # what a night's pipeline does after the roles exist
        cur.execute("insert into raw.load_manifest (feed, extract_date, source_file, file_sha256, file_bytes, status) "
                    "values ('crs__people', '2026-11-01', 'people.csv', 'x', 1, 'loaded')")
        cur.execute("set role safeguarding_dq_writer")
        cur.execute("create table dq.expectation_results (suite text, success boolean)")
        cur.execute("insert into dq.expectation_results values ('raw', true)")
        cur.execute("reset role")
    conn.commit()
    conn.close()
    publish_as_transformer(test_settings, "roles_test_night_1",
                           "create table marts_build.mart_example (person_key text, episode_count integer)",
                           "insert into marts_build.mart_example values (repeat('a', 64), 3)",
                           "create table staging.stg_example as select 1 as x")
    yield test_settings


def can_read(settings, role: str, table: str) -> bool:
    conn = psycopg2.connect(host=settings.connection.host, port=settings.connection.port,
                            dbname=settings.connection.dbname, user=role, password=PASSWORDS[password_setting(role)])
    try:
        with conn.cursor() as cur:
            cur.execute(f"select count(*) from {table}")
            return cur.fetchone()[0] >= 0
    except psycopg2.errors.InsufficientPrivilege:
        return False
    finally:
        conn.close()


TABLES = ("raw.crs__people", "raw.load_manifest", "private.pseudonymisation_key", "staging.stg_example",
          "marts.mart_example", "council.mart_example", "dq.expectation_results")
EXPECTED = {
    "safeguarding_loader": {"raw.crs__people", "raw.load_manifest", "dq.expectation_results"},
    "safeguarding_transformer": {"raw.crs__people", "raw.load_manifest", "private.pseudonymisation_key",
                                 "staging.stg_example", "marts.mart_example", "council.mart_example",
                                 "dq.expectation_results"},
    COUNCIL: {"council.mart_example"},
    PARTNERSHIP: set(),  # aggregates only: a person-level mart is in no view of its own
    AUDITOR: {"dq.expectation_results", "raw.load_manifest"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_reads_exactly_its_zones(roles_db, role):
    readable = {t for t in TABLES if can_read(roles_db, role, t)}
    assert readable == EXPECTED[role]


def test_no_audience_reads_raw_the_key_pads_or_the_marts_themselves(roles_db):
    for audience in audiences.declaration().audiences.values():
        for table in ("raw.crs__people", "private.pseudonymisation_key", "marts.mart_example"):
            assert not can_read(roles_db, audience.name, table), (audience.key, table)


def test_the_next_publication_is_readable_too_and_yesterdays_is_not(roles_db):
    """publish swaps in a new marts schema every night: the views must follow it, and what
    travelled with yesterday's schema into marts_previous must not be readable (issue 20)."""
    publish_as_transformer(roles_db, "roles_test_night_2",
                           "create table marts_build.mart_new_tonight as select 1 as episode_count",
                           "create table marts_build.mart_example as select repeat('b', 64) as person_key")
    assert can_read(roles_db, COUNCIL, "council.mart_new_tonight")
    for audience in audiences.declaration().audiences.values():
        assert not can_read(roles_db, audience.name, "marts_previous.mart_example"), audience.key
        assert not can_read(roles_db, audience.name, "marts.mart_new_tonight"), audience.key


def test_loader_writes_raw_but_not_the_marts(roles_db):
    conn = db.connect(as_role(roles_db, roles.LOADER.name))
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
    # A table the loader created is readable by the transformer (default privileges), not by an audience.
    assert can_read(roles_db, "safeguarding_transformer", "raw.crs__contacts")
    assert not can_read(roles_db, COUNCIL, "raw.crs__contacts")


def test_without_a_password_a_role_cannot_log_in(roles_db):
    conn = db.connect(roles_db)
    roles.apply_roles(conn, {k: v for k, v in PASSWORDS.items() if "COUNCIL" not in k})
    conn.close()
    try:
        # It has no password to give (NOLOGIN, password null): the server refuses it either way.
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed|not permitted to log in"):
            can_read(roles_db, COUNCIL, "council.mart_example")
    finally:
        conn = db.connect(roles_db)
        roles.apply_roles(conn, PASSWORDS)
        conn.close()


def test_a_role_per_entry_of_the_declaration_with_its_password_setting():
    decl = audiences.declaration()
    assert [r.name for r in roles.ROLES] == [r.name for r in (*decl.pipeline.values(), *decl.audiences.values())]
    assert {r.password_setting for r in roles.ROLES} >= {
        "SAFEGUARDING_LOADER_PASSWORD", "SAFEGUARDING_TRANSFORMER_PASSWORD", "SAFEGUARDING_PARTNERSHIP_PASSWORD",
        "SAFEGUARDING_COUNCIL_ANALYST_PASSWORD", "SAFEGUARDING_AUDITOR_PASSWORD"}
    assert all(r.password_setting == password_setting(r.name) for r in roles.ROLES)


def test_the_declaration_refuses_what_it_cannot_apply():
    good = {"pipeline": {"loader": {"role": "l"}, "transformer": {"role": "t"}},
            "audiences": {"a": {"role": "a_role", "schema": "a", "reads": [{"from": "mart_x"}]}}}
    assert audiences.parse(good).audience("a").views[0].source == "mart_x"
    for broken, words in (
            ({"audiences": {"a": {"role": "a_role", "schema": "raw"}}}, "pipeline writes"),
            ({"audiences": {"a": {"role": "a_role", "schema": "a", "reads": [{"view": "v"}]}}}, "needs `from:`"),
            ({"audiences": {"a": {"role": "a_role", "schema": "a", "reads": [{"from": "x; drop table y"}]}}},
             "not a lower-case SQL name"),
            ({"audiences": {"a": {"role": "a_role", "schema": "a", "colums": []}}}, "unknown key"),
            ({"audiences": {"a": {"role": "l", "schema": "a"}}}, "a role and a schema of its own")):
        with pytest.raises(audiences.DeclarationError, match=words):
            audiences.parse(good | broken)
