"""A feed extracted by SQL from a source database, through an Airflow connection.

A second database in the test PostgreSQL stands in for the council's case recording
system; the settings file names which feeds come from it.
"""

import dataclasses
from datetime import date, timedelta

import psycopg2
import pytest

from extract.feeds import CRS_CONTACTS, CRS_PEOPLE
from extract.load_night import expected_file, load_night
from extract.sources import SETTINGS_VARIABLE, SourceConfigurationError, sql_sources

from helpers import query

NIGHT = date(2026, 11, 22)

SOURCE_SCHEMA = """
drop table if exists person, contact;
create table person (id int primary key, born date, sex int, uasc boolean);
create table contact (id int primary key, person int, received timestamp, source text, decided timestamp,
                      outcome text, updated timestamp);
insert into person values (1, '2012-03-04', 1, false), (2, '2009-10-11', 2, true), (3, '2015-01-02', 1, false);
insert into contact values
    (10, 1, '2026-11-20 09:15', '5A', '2026-11-20 15:00', 'REFERRAL', '2026-11-20 15:00'),
    (11, 2, '2026-11-21 10:00', '2A', null, null, '2026-11-21 10:00'),
    (12, 3, '2026-11-22 11:30', '3B', '2026-11-22 12:00', 'NFA', '2026-11-22 12:00');
"""

SETTINGS = """
feeds:
  crs__people:
    conn_id: crs_source
    query: >
      select 'P' || id as person_id, null as nhs_number, to_char(born, 'YYYY-MM-DD') as date_of_birth,
             null as expected_date_of_birth, sex::text as gender, null as ethnicity,
             case when uasc then 'Y' else 'N' end as uasc, null as postcode
      from person
  crs__contacts:
    conn_id: crs_source
    query: >
      select 'C' || id as contact_id, 'P' || person as person_id,
             to_char(received, 'YYYY-MM-DD HH24:MI') as contact_at, source as contact_source,
             to_char(decided, 'YYYY-MM-DD HH24:MI') as decision_at, outcome as decision,
             to_char(updated, 'YYYY-MM-DD HH24:MI') as updated_at
      from contact
      where updated::date > {since} and updated::date <= {extract_date}
"""


@pytest.fixture
def source_database(settings, conn, tmp_path, monkeypatch):
    c = settings.connection
    admin = psycopg2.connect(host=c.host, port=c.port, user=c.user, password=c.password, dbname=c.dbname)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = 'crs_source'")
        if not cur.fetchone():
            cur.execute("create database crs_source")
    admin.close()
    source = psycopg2.connect(host=c.host, port=c.port, user=c.user, password=c.password, dbname="crs_source")
    with source, source.cursor() as cur:
        cur.execute(SOURCE_SCHEMA)
    settings_file = tmp_path / "sql_sources.yml"
    settings_file.write_text(SETTINGS)
    monkeypatch.setenv(SETTINGS_VARIABLE, str(settings_file))
    monkeypatch.setenv("AIRFLOW_CONN_CRS_SOURCE", dataclasses.replace(c, dbname="crs_source").url)
    with conn.cursor() as cur:
        for feed in (CRS_PEOPLE, CRS_CONTACTS):
            cur.execute(f"drop table if exists {feed.raw_table} cascade")
            cur.execute("delete from raw.load_manifest where feed = %s" if query(
                conn, "select to_regclass('raw.load_manifest') is not null")[0][0] else "select %s", (feed.id,))
    conn.commit()
    yield source
    source.close()


def test_feeds_load_from_a_source_database_through_an_airflow_connection(settings, conn, source_database, tmp_path):
    night_settings = dataclasses.replace(settings, landing_dir=tmp_path / "landing")
    results = {r.feed: r for r in load_night(night_settings, NIGHT, feeds=(CRS_PEOPLE, CRS_CONTACTS))}
    assert results[CRS_PEOPLE.id].rows == 3 and results[CRS_CONTACTS.id].rows == 3
    # Spooled to the landing folder, where a delivered file would be, and loaded with its lineage.
    spooled = expected_file(night_settings.landing_dir, CRS_PEOPLE, NIGHT)
    assert spooled.read_text().splitlines()[0] == ",".join(CRS_PEOPLE.column_names)
    assert query(conn, f"select person_id, date_of_birth, uasc, _source_file from {CRS_PEOPLE.raw_table} "
                       "order by person_id") == [
        ("P1", "2012-03-04", "N", str(spooled)), ("P2", "2009-10-11", "Y", str(spooled)),
        ("P3", "2015-01-02", "N", str(spooled))]
    assert query(conn, f"select contact_id, decision_at from {CRS_CONTACTS.raw_table} where contact_id = 'C11'") == [
        ("C11", None)]

    # The next night: the incremental query asks only for what changed since the last extract loaded.
    with source_database, source_database.cursor() as cur:
        cur.execute("update contact set decided = '2026-11-23 09:00', outcome = 'REFERRAL', "
                    "updated = '2026-11-23 09:00' where id = 11")
    next_night = NIGHT + timedelta(days=1)
    again = {r.feed: r for r in load_night(night_settings, next_night, feeds=(CRS_PEOPLE, CRS_CONTACTS))}
    assert again[CRS_CONTACTS.id].rows == 1
    assert query(conn, f"select _extract_date, contact_id, decision from {CRS_CONTACTS.raw_table} "
                       "where contact_id = 'C11' order by _extract_date") == [
        (NIGHT, "C11", None), (next_night, "C11", "REFERRAL")]

    # A re-run of a past night reloads what that night extracted, not the source's state today.
    rerun = {r.feed: r for r in load_night(night_settings, NIGHT, feeds=(CRS_PEOPLE, CRS_CONTACTS))}
    assert rerun[CRS_CONTACTS.id].status == "duplicate"


def test_the_settings_file_is_checked(tmp_path):
    settings_file = tmp_path / "bad.yml"
    settings_file.write_text("feeds:\n  crs__nonsense:\n    conn_id: x\n    query: select 1\n")
    with pytest.raises(SourceConfigurationError, match="unknown feed 'crs__nonsense'"):
        sql_sources({SETTINGS_VARIABLE: str(settings_file)})
    settings_file.write_text("feeds:\n  crs__people:\n    query: select 1\n")
    with pytest.raises(SourceConfigurationError, match="needs a conn_id and a query"):
        sql_sources({SETTINGS_VARIABLE: str(settings_file)})
    assert sql_sources({}) == {}
