"""The warehouse's PostgreSQL roles, from the one declaration: warehouse/audiences.yml.

`safeguarding roles` (:func:`apply_roles`) connects as the superuser (or an external
warehouse's owner), the only thing it is used for besides creating the database, and:

* creates one role per entry of audiences.yml: the pipeline's ``safeguarding_loader`` and
  ``safeguarding_transformer``, and one per audience (council analysts, partnership, police,
  return-interview provider, regional pool, auditors);
* hands each schema the pipeline writes to the role that writes it (``raw`` to the loader;
  ``staging``, ``intermediate``, ``snapshots``, ``marts_build``, ``marts``, ``private``,
  ``reporting`` to the transformer), with every table in it, so each nightly step can run as
  its own role; the ``dq`` tables belong to ``safeguarding_dq_writer``, a group both are in;
* gives each audience its schema of views and nothing else (warehouse/audiences.py, which the
  nightly publish also calls to re-create them over the marts it publishes).

Passwords come from the environment, never the repository: ``SAFEGUARDING_<ROLE>_PASSWORD``
(e.g. ``SAFEGUARDING_PARTNERSHIP_PASSWORD``). With the embedded default, a role whose password
is not set gets a generated one, kept in ``.local/secrets/`` (warehouse/settings.py). With an
external warehouse a role whose password is not set is ``NOLOGIN``: it exists with its grants,
and nobody can log in as it until an operator sets the password and runs ``safeguarding roles``
again. Applying is idempotent.
"""

from __future__ import annotations

import logging
import os

import psycopg2.errors
from psycopg2 import sql

from . import audiences
from .raw_zone import RAW_DDL

log = logging.getLogger(__name__)

RAW, STAGING, INTERMEDIATE, SNAPSHOTS, PRIVATE = "raw", "staging", "intermediate", "snapshots", "private"
MARTS_BUILD, MARTS, REPORTING, DQ = "marts_build", "marts", "reporting", "dq"
# Schemas created here if missing, so grants can be set before the first run.
MANAGED_SCHEMAS = (RAW, STAGING, INTERMEDIATE, SNAPSHOTS, PRIVATE, REPORTING, DQ)
# Schemas the transformer owns besides those it writes each night: the published marts (the build
# renamed), yesterday's, and the partnership refresh's copy.
TRANSFORMER_OWNS_TOO = (MARTS, audiences.PREVIOUS_SCHEMA, REPORTING)
# Roles of earlier versions, replaced by the audiences: dropped when found.
RETIRED_ROLES = ("safeguarding_bi_reader",)

DECLARATION = audiences.declaration()
ROLES = DECLARATION.roles
LOADER, TRANSFORMER = DECLARATION.loader, DECLARATION.transformer


def _exists(cur, query: str, *params) -> bool:
    cur.execute(query, params)
    return cur.fetchone() is not None


def _schema_exists(cur, schema: str) -> bool:
    return _exists(cur, "select 1 from pg_namespace where nspname = %s", schema)


def hand_over(cur, schema: str, owner: str) -> None:
    """Make `owner` own `schema` and every table, view and sequence in it."""
    if not _schema_exists(cur, schema):
        return
    cur.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), sql.Identifier(owner)))
    cur.execute("""select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                     and pg_get_userbyid(c.relowner) <> %s
                     -- a sequence owned by a table follows its table
                     and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid
                                                           and d.deptype in ('a', 'i')))""", (schema, owner))
    for name, kind in cur.fetchall():
        what = {"v": "view", "m": "materialized view", "S": "sequence", "f": "foreign table"}.get(kind, "table")
        cur.execute(sql.SQL("alter {} {} owner to {}").format(sql.SQL(what), sql.Identifier(schema, name),
                                                               sql.Identifier(owner)))


def _password(role: audiences.Role, settings, environ) -> str:
    if environ is not None:
        return environ.get(role.password_setting, "")
    return settings.role_password(role.name) if settings is not None else os.environ.get(role.password_setting, "")


def apply_roles(conn, environ: dict[str, str] | None = None, settings=None) -> list[str]:
    """Create or update every role of audiences.yml, its ownerships and grants. One line per role.

    Passwords: from ``environ`` when given (SAFEGUARDING_<ROLE>_PASSWORD), else from ``settings``
    (the environment, or the embedded default's generated ones), else from the environment."""
    decl = audiences.declaration()
    report = []
    with conn.cursor() as cur:
        cur.execute("select current_database(), current_user")
        database, owner = cur.fetchone()
        db_ident = sql.Identifier(database)
        # Nobody connects by default; each role is granted CONNECT below.
        cur.execute(sql.SQL("revoke all on database {} from public").format(db_ident))
        cur.execute("revoke create on schema public from public")
        for schema in MANAGED_SCHEMAS:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        # The raw zone's bookkeeping (load manifest, quarantine) before the first load, so the
        # auditors' grant on the manifest is in place from the start; handed to the loader below.
        cur.execute(RAW_DDL)

        for retired in RETIRED_ROLES:
            if _exists(cur, "select 1 from pg_roles where rolname = %s", retired):
                ident = sql.Identifier(retired)
                cur.execute(sql.SQL("drop owned by {}").format(ident))  # its grants in this database
                cur.execute("savepoint retire")
                try:
                    cur.execute(sql.SQL("drop role {}").format(ident))
                    report.append(f"{retired:30} dropped (replaced by the audiences of warehouse/audiences.yml)")
                except psycopg2.errors.DependentObjectsStillExist:  # grants in another database of the server
                    cur.execute("rollback to savepoint retire")
                    cur.execute(sql.SQL("alter role {} nologin password null").format(ident))
                    report.append(f"{retired:30} NOLOGIN, no grants here (replaced by the audiences of "
                                  "warehouse/audiences.yml; other databases still grant it something)")

        if not _exists(cur, "select 1 from pg_roles where rolname = %s", audiences.DQ_WRITER):
            cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(audiences.DQ_WRITER)))
        for role in decl.roles:
            ident = sql.Identifier(role.name)
            password = _password(role, settings, environ)
            if not _exists(cur, "select 1 from pg_roles where rolname = %s", role.name):
                cur.execute(sql.SQL("create role {}").format(ident))
            if password:
                cur.execute(sql.SQL("alter role {} login password %s").format(ident), (password,))
            else:
                cur.execute(sql.SQL("alter role {} nologin password null").format(ident))
            cur.execute(sql.SQL("comment on role {} is %s").format(ident), (" ".join(role.purpose.split()),))
            cur.execute(sql.SQL("grant connect on database {} to {}").format(db_ident, ident))
            login = "login" if password else f"NOLOGIN (set {role.password_setting})"
            report.append(f"{role.name:30} {login:48} {role.schema or 'pipeline'}")

        # The pipeline's roles own what they write; the dq tables belong to a group both are in.
        dq_writer = sql.Identifier(audiences.DQ_WRITER)
        for role in decl.pipeline.values():
            ident = sql.Identifier(role.name)
            cur.execute(sql.SQL("grant {} to {}").format(dq_writer, ident))
            # The loader's row checks and dbt's snapshots work in temporary tables.
            cur.execute(sql.SQL("grant temporary on database {} to {}").format(db_ident, ident))
            for schema in role.writes:
                if schema == DQ:
                    continue
                hand_over(cur, schema, role.name)
            for schema in role.reads:
                if _schema_exists(cur, schema):
                    s = sql.Identifier(schema)
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, ident))
                    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, ident))
                    for writer in decl.pipeline.values():
                        if schema in writer.writes:
                            cur.execute(sql.SQL("alter default privileges for role {} in schema {} grant select "
                                                "on tables to {}").format(sql.Identifier(writer.name), s, ident))
        transformer = sql.Identifier(TRANSFORMER.name)
        # dbt re-creates marts_build every night; the transformer creates the audiences' schemas at publish.
        cur.execute(sql.SQL("grant create on database {} to {}").format(db_ident, transformer))
        for schema in TRANSFORMER_OWNS_TOO:
            hand_over(cur, schema, TRANSFORMER.name)
        for audience in decl.audiences.values():
            hand_over(cur, audience.schema, TRANSFORMER.name)
        hand_over(cur, DQ, audiences.DQ_WRITER)
        cur.execute(sql.SQL("revoke all on schema {} from public").format(sql.Identifier(PRIVATE)))

        # Audiences: whole schemas and single tables (the auditors' dq and load manifest) ...
        for audience in decl.audiences.values():
            ident = sql.Identifier(audience.name)
            for schema in audience.reads_schemas:
                s = sql.Identifier(schema)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, ident))
                cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, ident))
                for writer in [r.name for r in decl.pipeline.values() if schema in r.writes] + [
                        audiences.DQ_WRITER if schema == DQ else owner]:
                    cur.execute(sql.SQL("alter default privileges for role {} in schema {} grant select on tables "
                                        "to {}").format(sql.Identifier(writer), s, ident))
            for table in audience.reads_tables:
                cur.execute("select to_regclass(%s)", (table,))
                if cur.fetchone()[0] is not None:
                    schema, name = table.split(".")
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), ident))
                    cur.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(schema, name), ident))
        # ... and the views over the published marts, if any are published yet.
        if _schema_exists(cur, MARTS):
            audiences.revoke_previous(cur, decl)
            audiences.expose(cur, decl=decl)
            hand_over_views(cur, decl)
    conn.commit()
    for line in report:
        log.info("role %s", line)
    return report


def hand_over_views(cur, decl: audiences.Declaration) -> None:
    """Views made here (as the superuser) must run with the transformer's rights, as the publish step's do."""
    for audience in decl.audiences.values():
        hand_over(cur, audience.schema, TRANSFORMER.name)
