"""The warehouse's PostgreSQL roles: who may write what, and who may read what.

| role | may | may not |
| --- | --- | --- |
| ``safeguarding_loader`` | write the ``raw`` zone (COPY the night's files) | read anything the pipeline builds |
| ``safeguarding_transformer`` | read ``raw``; build ``staging``, ``intermediate``, ``snapshots``, ``marts_build``; write and read the key pads in ``private``; publish | - |
| ``safeguarding_bi_reader`` | read the published ``marts`` (and ``reporting``) | read ``raw``, ``staging``, ``marts_build``, ``private`` (the pseudonymisation key pads), ``dq`` |
| ``safeguarding_auditor`` | read the published ``marts``, ``reporting``, the ``dq`` results and ``raw.load_manifest`` (what was loaded or held back) | read raw rows or the key pads |

Passwords come from the environment, never the repository:
``SAFEGUARDING_LOADER_PASSWORD``, ``SAFEGUARDING_TRANSFORMER_PASSWORD``,
``SAFEGUARDING_BI_READER_PASSWORD``, ``SAFEGUARDING_AUDITOR_PASSWORD``. A role whose
password is not set is ``NOLOGIN``: it exists, its grants are in place, but
nobody can log in as it until an operator sets the password and runs
``safeguarding roles`` again. Applying is idempotent.

The published ``marts`` schema is replaced every night (warehouse/publish.py swaps
``marts_build`` into place), so grants on it are re-applied by publish, after the
swap, to the reader roles named here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from psycopg2 import sql

log = logging.getLogger(__name__)

# The schemas the pipeline writes (created here if missing so grants can be set before the first run).
RAW, STAGING, INTERMEDIATE, SNAPSHOTS, PRIVATE = "raw", "staging", "intermediate", "snapshots", "private"
MARTS_BUILD, MARTS, REPORTING, DQ = "marts_build", "marts", "reporting", "dq"
MANAGED_SCHEMAS = (RAW, STAGING, INTERMEDIATE, SNAPSHOTS, PRIVATE, REPORTING, DQ)


@dataclass(frozen=True)
class Role:
    name: str
    purpose: str
    writes: tuple[str, ...] = ()  # schemas it creates and changes tables in
    reads: tuple[str, ...] = ()  # schemas whose every table it may select
    read_tables: tuple[str, ...] = ()  # single tables it may select
    create_schemas: bool = False  # may create schemas (dbt re-creates marts_build every night)

    @property
    def password_setting(self) -> str:
        return "SAFEGUARDING_" + self.name.removeprefix("safeguarding_").upper() + "_PASSWORD"


LOADER = Role("safeguarding_loader", "loads the night's files into the raw zone", writes=(RAW,))
TRANSFORMER = Role("safeguarding_transformer", "builds staging, intermediate models and the marts",
                   writes=(STAGING, INTERMEDIATE, SNAPSHOTS, MARTS_BUILD, PRIVATE), reads=(RAW,),
                   create_schemas=True)
BI_READER = Role("safeguarding_bi_reader", "BI tools: reads the published marts only", reads=(MARTS, REPORTING))
AUDITOR = Role("safeguarding_auditor", "reads the published marts, the data-quality results and the load manifest",
               reads=(MARTS, REPORTING, DQ), read_tables=("raw.load_manifest",))
ROLES = (LOADER, TRANSFORMER, BI_READER, AUDITOR)
READER_ROLE_NAMES = tuple(r.name for r in ROLES if MARTS in r.reads)


def _exists(cur, query: str, *params) -> bool:
    cur.execute(query, params)
    return cur.fetchone() is not None


def _schema_exists(cur, schema: str) -> bool:
    return _exists(cur, "select 1 from pg_namespace where nspname = %s", schema)


def apply_roles(conn, environ: dict[str, str] | None = None) -> list[str]:
    """Create or update the four roles and their grants. Returns a line per role for the operator."""
    env = os.environ if environ is None else environ
    report = []
    with conn.cursor() as cur:
        cur.execute("select current_database(), current_user")
        database, owner = cur.fetchone()
        # Nobody connects by default; each role is granted CONNECT below.
        cur.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(database)))
        for schema in MANAGED_SCHEMAS:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute("revoke all on schema private from public")

        for role in ROLES:
            ident = sql.Identifier(role.name)
            password = env.get(role.password_setting, "")
            if not _exists(cur, "select 1 from pg_roles where rolname = %s", role.name):
                cur.execute(sql.SQL("create role {}").format(ident))
            if password:
                cur.execute(sql.SQL("alter role {} login password %s").format(ident), (password,))
            else:
                cur.execute(sql.SQL("alter role {} nologin password null").format(ident))
            cur.execute(sql.SQL("comment on role {} is %s").format(ident), (role.purpose,))
            cur.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), ident))
            if role.create_schemas:
                cur.execute(sql.SQL("grant create on database {} to {}").format(sql.Identifier(database), ident))

            for schema in role.writes:
                if not _schema_exists(cur, schema):
                    continue  # marts_build before the first build: the transformer creates it
                s = sql.Identifier(schema)
                cur.execute(sql.SQL("grant usage, create on schema {} to {}").format(s, ident))
                cur.execute(sql.SQL("grant select, insert, update, delete, truncate on all tables in schema {} to {}")
                            .format(s, ident))
                cur.execute(sql.SQL("alter default privileges in schema {} grant select, insert, update, delete, "
                                    "truncate on tables to {}").format(s, ident))
            for schema in role.reads:
                if not _schema_exists(cur, schema):
                    continue  # marts before the first publish: publish grants after the swap
                s = sql.Identifier(schema)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, ident))
                cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, ident))
                # Tables created later in this schema, by the pipeline's owner or by the role that writes it.
                writers = [r.name for r in ROLES if schema in r.writes] + [owner]
                for writer in dict.fromkeys(writers):
                    cur.execute(sql.SQL("alter default privileges for role {} in schema {} grant select on tables "
                                        "to {}").format(sql.Identifier(writer), s, ident))
            for table in role.read_tables:
                cur.execute("select to_regclass(%s)", (table,))
                if cur.fetchone()[0] is not None:
                    schema, name = table.split(".")
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), ident))
                    cur.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(schema, name), ident))
            report.append(f"{role.name:26} {'login' if password else 'NOLOGIN (set ' + role.password_setting + ')':44}"
                          f" {role.purpose}")
    conn.commit()
    for line in report:
        log.info("role %s", line)
    return report
