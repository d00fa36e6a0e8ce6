"""Who may read what: the audiences of warehouse/audiences.yml, made real in PostgreSQL.

The declaration (``audiences.yml``, read once by :func:`declaration`) lists the pipeline's
own roles and each audience: its role, the schema of views it reads, and for each view the
published mart it comes from, the only columns it may read, the rows (a filter in the view)
and, where rows depend on the agency, ``row_security`` (a PostgreSQL row-level security
policy for that role on the mart itself).

Two things use it:

* ``safeguarding roles`` (warehouse/roles.py) creates one role per entry and its grants;
* each night's publish (publication/publish.py) calls :func:`expose` in the transaction that
  swaps the new marts in: every audience schema is dropped and re-created with views over the
  marts just published, so an audience sees last night's views or tonight's, never a mixture.
  Audience roles have no privilege on ``marts`` itself (the views run with their owner's
  rights), except the columns a ``row_security`` view lists, on which PostgreSQL filters the
  rows by the policy. Nothing on ``marts_previous``: grants that travelled with yesterday's
  schema when it was renamed are revoked (:func:`revoke_previous`).

The regional pool's extract is withheld on a night any of its degrade steps failed
(:func:`regional_pool_failures`): its views are then not created, and ``dq.audience_releases``
says why. How to add an audience or change what one reads: docs/access.md.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from psycopg2 import sql

log = logging.getLogger(__name__)

DECLARATION = Path(__file__).with_name("audiences.yml")
PUBLISHED_SCHEMA = "marts"
PREVIOUS_SCHEMA = "marts_previous"
# Members of this role own the dq schema's tables: both pipeline roles record quality evidence
# (the loader when it rejects a file, the transformer at every gate), and the DDL that keeps the
# tables up to date (comments, added columns) needs the owner.
DQ_WRITER = "safeguarding_dq_writer"
# The regional pool's degrade steps, row by row (models/intermediate/int_regional_pool__*).
REGIONAL_POOL_CHECKS = ("int_regional_pool__children", "int_regional_pool__looked_after_episodes",
                        "int_regional_pool__missing_episodes")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class DeclarationError(ValueError):
    """audiences.yml says something this module cannot apply; the message names the entry."""


@dataclass(frozen=True)
class View:
    name: str
    source: str  # a table in the published schema
    columns: tuple[str, ...] = ()  # () = every column
    rows: str | None = None  # a filter in the view
    row_security: str | None = None  # a row-level security policy on the source table


@dataclass(frozen=True)
class ViewPattern:
    """Every published mart whose name matches, as a view of the same name, but those matching `except`."""
    pattern: str
    excluded: tuple[str, ...] = ()  # names or patterns


@dataclass(frozen=True)
class Role:
    key: str  # the entry's name in audiences.yml
    name: str  # the PostgreSQL role
    purpose: str
    schema: str | None = None  # the audience's schema of views (None for pipeline roles)
    views: tuple[View | ViewPattern, ...] = ()
    writes: tuple[str, ...] = ()  # pipeline roles: schemas they own and write
    reads: tuple[str, ...] = ()  # pipeline roles: schemas they read
    reads_schemas: tuple[str, ...] = ()  # audiences: whole schemas (e.g. dq)
    reads_tables: tuple[str, ...] = ()  # audiences: single tables (e.g. raw.load_manifest)
    withheld_if_degrade_fails: bool = False

    @property
    def password_setting(self) -> str:
        return "SAFEGUARDING_" + self.name.removeprefix("safeguarding_").upper() + "_PASSWORD"

    @property
    def is_pipeline(self) -> bool:
        return self.schema is None


@dataclass(frozen=True)
class Declaration:
    pipeline: dict[str, Role]
    audiences: dict[str, Role]
    retention: dict = field(default_factory=dict)

    @property
    def roles(self) -> tuple[Role, ...]:
        return (*self.pipeline.values(), *self.audiences.values())

    @property
    def loader(self) -> Role:
        return self.pipeline["loader"]

    @property
    def transformer(self) -> Role:
        return self.pipeline["transformer"]

    def audience(self, key: str) -> Role:
        return self.audiences[key]


def _identifier(value, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise DeclarationError(f"{where}: {value!r} is not a lower-case SQL name")
    return value


def _names(values, where: str) -> tuple[str, ...]:
    return tuple(_identifier(v, where) for v in (values or ()))


def _view(entry: dict, where: str) -> View | ViewPattern:
    unknown = set(entry) - {"view", "from", "columns", "rows", "row_security", "except"}
    if unknown:
        raise DeclarationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    source = entry.get("from")
    if not isinstance(source, str):
        raise DeclarationError(f"{where}: every view needs `from:` (a published mart)")
    if "*" in source:
        if set(entry) - {"from", "except"}:
            raise DeclarationError(f"{where}: a pattern ({source}) takes only `except:`")
        return ViewPattern(source, tuple(entry.get("except") or ()))
    return View(name=_identifier(entry.get("view", source), where), source=_identifier(source, where),
                columns=_names(entry.get("columns"), where), rows=entry.get("rows"),
                row_security=entry.get("row_security"))


def parse(document: dict) -> Declaration:
    """A Declaration from audiences.yml's contents; DeclarationError names what is wrong."""
    pipeline = {}
    for key, entry in (document.get("pipeline") or {}).items():
        where = f"pipeline.{key}"
        pipeline[key] = Role(key=key, name=_identifier(entry.get("role"), where), purpose=entry.get("purpose", ""),
                             writes=_names(entry.get("writes"), where), reads=_names(entry.get("reads"), where))
    if set(pipeline) != {"loader", "transformer"}:
        raise DeclarationError("pipeline: declare exactly `loader` and `transformer`")
    audiences = {}
    for key, entry in (document.get("audiences") or {}).items():
        where = f"audiences.{key}"
        unknown = set(entry) - {"role", "schema", "purpose", "reads", "reads_schemas", "reads_tables",
                                "withheld_if_degrade_fails"}
        if unknown:
            raise DeclarationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        views = tuple(_view(v, f"{where}.reads[{i}]") for i, v in enumerate(entry.get("reads") or ()))
        tables = tuple(entry.get("reads_tables") or ())
        for table in tables:
            schema, _, name = table.partition(".")
            _identifier(schema, where), _identifier(name, where)
        audiences[key] = Role(key=key, name=_identifier(entry.get("role"), where), purpose=entry.get("purpose", ""),
                              schema=_identifier(entry.get("schema"), where), views=views,
                              reads_schemas=_names(entry.get("reads_schemas"), where), reads_tables=tables,
                              withheld_if_degrade_fails=bool(entry.get("withheld_if_degrade_fails")))
        names = [v.name for v in views if isinstance(v, View)]
        if len(names) != len(set(names)):
            raise DeclarationError(f"{where}: two views with the same name")
    roles = [r.name for r in (*pipeline.values(), *audiences.values())]
    schemas = [a.schema for a in audiences.values()]
    if len(roles) != len(set(roles)) or len(schemas) != len(set(schemas)):
        raise DeclarationError("every entry needs a role and a schema of its own")
    reserved = {"raw", "staging", "intermediate", "snapshots", "private", "dq", "marts", "marts_build",
                PREVIOUS_SCHEMA, "reporting", "public"}
    if reserved & set(schemas):
        raise DeclarationError(f"an audience's schema cannot be one the pipeline writes: {reserved & set(schemas)}")
    return Declaration(pipeline=pipeline, audiences=audiences, retention=document.get("retention") or {})


@lru_cache(maxsize=None)
def declaration(path: Path = DECLARATION) -> Declaration:
    try:
        return parse(yaml.safe_load(path.read_text()))
    except DeclarationError as exc:
        raise DeclarationError(f"{path}: {exc}") from None


# --- the views, night by night --------------------------------------------------------------------

def _published_columns(cur, schema: str) -> dict[str, list[str]]:
    cur.execute("select table_name, column_name from information_schema.columns where table_schema = %s "
                "order by table_name, ordinal_position", (schema,))
    tables: dict[str, list[str]] = {}
    for table, column in cur.fetchall():
        tables.setdefault(table, []).append(column)
    return tables


def views_of(audience: Role, published: dict[str, list[str]]) -> list[View]:
    """The audience's views over what is published tonight (patterns expanded, missing marts skipped)."""
    views: list[View] = []
    for entry in audience.views:
        if isinstance(entry, ViewPattern):
            views += [View(name=t, source=t) for t in sorted(published)
                      if fnmatch.fnmatchcase(t, entry.pattern)
                      and not any(fnmatch.fnmatchcase(t, e) for e in entry.excluded)]
        elif entry.source in published:
            views.append(entry)
    named = {}
    for view in views:  # an explicit view wins over a pattern's view of the same name
        named[view.name] = view
    return list(named.values())


def _revoke_everything_in(cur, schema: str, role_names: list[str]) -> None:
    cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
    if cur.fetchone() is None:
        return
    for role in role_names:
        ident, s = sql.Identifier(role), sql.Identifier(schema)
        cur.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, ident))
        cur.execute(sql.SQL("revoke all on schema {} from {}").format(s, ident))


def revoke_previous(cur, decl: Declaration | None = None) -> None:
    """Yesterday's marts are not for reading: grants that travelled with the schema go."""
    decl = decl or declaration()
    _revoke_everything_in(cur, PREVIOUS_SCHEMA, [r.name for r in decl.audiences.values()] + ["public"])


def expose(cur, *, withheld: set[str] = frozenset(), decl: Declaration | None = None) -> dict[str, list[str]]:
    """(Re)create every audience's schema of views over the published marts, in the caller's transaction.

    Returns {audience key: [view names]}. ``withheld``: audience keys whose views are left out
    tonight (the regional pool after a failed degrade step). Roles that do not exist yet are
    skipped (``safeguarding roles`` creates them and calls this again)."""
    decl = decl or declaration()
    published = _published_columns(cur, PUBLISHED_SCHEMA)
    cur.execute("select rolname from pg_roles")
    existing = {r[0] for r in cur.fetchall()}
    audience_roles = [a.name for a in decl.audiences.values() if a.name in existing]
    # Row-level security policies are re-made from the declaration every time.
    cur.execute("select policyname, tablename from pg_policies where schemaname = %s and policyname like 'audience_%%'",
                (PUBLISHED_SCHEMA,))
    for policy, table in cur.fetchall():
        cur.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(policy),
                                                            sql.Identifier(PUBLISHED_SCHEMA, table)))
    _revoke_everything_in(cur, PUBLISHED_SCHEMA, audience_roles)
    exposed: dict[str, list[str]] = {}
    for audience in decl.audiences.values():
        schema = sql.Identifier(audience.schema)
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
        cur.execute(sql.SQL("create schema {}").format(schema))
        cur.execute(sql.SQL("comment on schema {} is %s").format(schema), (f"What {audience.key} reads "
                    f"(warehouse/audiences.yml): {' '.join(audience.purpose.split())}",))
        if audience.name not in existing:
            continue
        role = sql.Identifier(audience.name)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
        if audience.key in withheld:
            exposed[audience.key] = []
            continue
        made = []
        for view in views_of(audience, published):
            columns = view.columns or tuple(published[view.source])
            missing = set(columns) - set(published[view.source])
            if missing:
                raise DeclarationError(f"audiences.{audience.key}: view {view.name} lists column(s) "
                                       f"{', '.join(sorted(missing))} that {PUBLISHED_SCHEMA}.{view.source} lacks")
            source = sql.Identifier(PUBLISHED_SCHEMA, view.source)
            select = sql.SQL("select {} from {}").format(sql.SQL(", ").join(map(sql.Identifier, columns)), source)
            if view.rows:
                select += sql.SQL(" where ") + sql.SQL(view.rows)
            target = sql.Identifier(audience.schema, view.name)
            if view.row_security:
                # The role reads the listed columns of the mart itself, and PostgreSQL keeps only the
                # rows its policy allows; the view runs with the reader's rights so the policy applies.
                cur.execute(sql.SQL("alter table {} enable row level security").format(source))
                cur.execute(sql.SQL("create policy {} on {} for select to {} using ({})").format(
                    sql.Identifier(f"audience_{audience.key}"), source, role, sql.SQL(view.row_security)))
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(PUBLISHED_SCHEMA), role))
                cur.execute(sql.SQL("grant select ({}) on {} to {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)), source, role))
                cur.execute(sql.SQL("create view {} with (security_invoker = true) as ").format(target) + select)
            else:
                cur.execute(sql.SQL("create view {} as ").format(target) + select)
            cur.execute(sql.SQL("grant select on {} to {}").format(target, role))
            made.append(view.name)
        exposed[audience.key] = made
    return exposed


def regional_pool_failures(cur) -> dict[str, int]:
    """{degrade failure: rows} in tonight's regional pool extract; empty when every step succeeded."""
    failures: dict[str, int] = {}
    for model in REGIONAL_POOL_CHECKS:
        cur.execute("select to_regclass(%s)", (f"intermediate.{model}",))
        if cur.fetchone()[0] is None:
            failures["the degrade step did not run (intermediate." + model + " is missing)"] = 0
            continue
        cur.execute(sql.SQL("select degrade_failure, count(*) from {} where degrade_failure is not null group by 1")
                    .format(sql.Identifier("intermediate", model)))
        for reason, rows in cur.fetchall():
            key = f"{model}: {reason}"
            failures[key] = failures.get(key, 0) + rows
    return failures


def record_releases(cur, *, run_id: str, extract_date, exposed: dict[str, list[str]],
                    withheld: dict[str, str]) -> None:
    """One dq.audience_releases row per audience for this publication (the table: warehouse/dq.py)."""
    for audience, views in exposed.items():
        cur.execute("insert into dq.audience_releases (run_id, extract_date, audience, status, views, reason) "
                    "values (%s, %s, %s, %s, %s, %s)",
                    (run_id, extract_date, audience, "withheld" if audience in withheld else "released", views,
                     withheld.get(audience)))


def release(cur, *, run_id: str | None = None, extract_date=None, decl: Declaration | None = None) -> dict:
    """At publication, in its transaction: withhold what failed its degrade steps, re-create every
    audience's views over the new marts, revoke what travelled to marts_previous, and record it.

    Returns {audience key: [view names]} ([] when withheld)."""
    decl = decl or declaration()
    withheld: dict[str, str] = {}
    for audience in decl.audiences.values():
        if audience.withheld_if_degrade_fails:
            failures = regional_pool_failures(cur)
            if failures:
                withheld[audience.key] = "; ".join(f"{reason} ({rows} rows)" for reason, rows in sorted(failures.items()))
                log.error("The %s extract is WITHHELD tonight: a degrade step failed: %s",
                          audience.key, withheld[audience.key])
    exposed = expose(cur, withheld=set(withheld), decl=decl)
    revoke_previous(cur, decl)
    cur.execute("select to_regclass('dq.audience_releases')")
    if run_id and extract_date and cur.fetchone()[0] is not None:
        record_releases(cur, run_id=run_id, extract_date=extract_date, exposed=exposed, withheld=withheld)
    for key, views in exposed.items():
        log.info("audience %s: %s", key, ", ".join(views) if views else "nothing tonight")
    return exposed
