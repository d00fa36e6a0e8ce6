"""Run a group of suites ("raw" or "marts") as one GX checkpoint, and gate on the result.

What one call of ``run_checkpoint`` does, in order:

1. Opens the GX *file* context in ``expectations/gx/`` (created on first use).
2. Registers the one PostgreSQL data source, ``warehouse``. Its connection string
   in ``great_expectations.yml`` is the placeholder ``${SAFEGUARDING_GX_CONNECTION}``;
   GX substitutes the environment variable when it connects, so the password is
   never written to disk.
3. Decides the night's suites from what is in the database (``suites_for_night``):
   raw, one per feed table, with row-count parameters from ``raw.load_manifest``;
   marts, one per table in the build schema, generated from its columns.
   For each suite: (re)creates the asset (raw: the night's partition of the feed's
   table; marts: the table in the build schema), a whole-asset
   batch definition, the suite (from ``expectations.suites``) and a validation
   definition; then the group's checkpoint, ``nightly_<group>``. Everything uses
   add_or_update or delete-then-add, so re-running for the same night, or another
   night, gives the same state.
4. Runs the checkpoint. The expectations run as SQL in the database; no table is
   read into pandas. It asks for counts only (COUNTS_ONLY), then once more, with the
   first failing row numbers or values (RESULT_FORMAT), for the few checks that failed
   (_detail_failures). Then builds Data Docs for the night's results (once, not once
   per suite as GX's UpdateDataDocsAction would).
5. Writes every result to the ``dq`` schema (warehouse/dq.py), also when the gate
   fails, so that auditors can query what was checked and what was held back.
6. Returns one ``SuiteOutcome`` per suite, or raises ``QualityGateFailed`` if a
   critical expectation failed (Data Docs are already built by then, so the
   failure can be inspected there).

Runs on one machine take turns (a file lock in ``expectations/gx/``): they share
``great_expectations.yml``, and two at once would overwrite each other's assets.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import fcntl
import logging
import os
import pathlib
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any

import psycopg2

from extract.feeds import FEEDS
from extract.returns.registry import RETURN_FEEDS
from warehouse.settings import GX_PROJECT_DIR

from . import suites as declared

log = logging.getLogger(__name__)

DATASOURCE_NAME = "warehouse"
CONNECTION_ENV_VAR = "SAFEGUARDING_GX_CONNECTION"
BATCH_DEFINITION_NAME = "all_rows"  # the whole asset: for raw, the asset's query is already one night
DATA_DOCS_SITE = "local_site"
# Data Docs list (and re-read) every stored validation result when they rebuild their index;
# with a few runs a night that is thousands within a year. Show the newest only.
DATA_DOCS_VALIDATION_RESULTS_LIMIT = 100
SAMPLE_SIZE = 5  # unexpected keys kept per failed expectation
# SUMMARY keeps counts and example failing values for Data Docs. Five examples are enough to
# diagnose a failure and keep few source values (which may identify a child) on disk.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
# Raw rows also report their row number in the delivered file: the dq tables keep those,
# not the values (see _result_rows).
RAW_RESULT_FORMAT = {**RESULT_FORMAT, "unexpected_index_column_names": ["_row_number"]}
# The checkpoint itself asks only for counts: with SUMMARY, GX fetches every column check's first
# failing values and row numbers in two more queries per check, each a full scan of the table even
# when nothing fails (two of every three scans of a clean night: 32 of the raw gate's 57 s of
# PostgreSQL time at three boroughs). LIMIT 0 ends those queries before they read a row. The checks
# that did fail are validated again with SUMMARY (_detail_failures), so the evidence is as before.
COUNTS_ONLY = {"result_format": "BASIC", "partial_unexpected_count": 0}

# A value failing these checks on a _key column may be a raw identifier: counted, never copied.
KEY_FORMAT_CHECKS = ("expect_column_values_to_match_regex", "expect_column_value_lengths_to_equal")

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class SuiteOutcome:
    suite: str
    success: bool  # True when no critical expectation failed (warnings do not count)
    critical_failures: list[str]  # one line each: expectation(column): what was found
    warnings: list[str]  # failed warning-severity expectations, same form
    evaluated: int  # expectations evaluated


class QualityGateFailed(RuntimeError):
    """A critical expectation failed: the night's data must not be published."""

    def __init__(self, checkpoint: str, extract_date: datetime.date, outcomes: list[SuiteOutcome]) -> None:
        self.checkpoint = checkpoint
        self.extract_date = extract_date
        self.outcomes = outcomes
        failed = [o for o in outcomes if o.critical_failures]
        count = sum(len(o.critical_failures) for o in failed)
        lines = [f"Quality gate {checkpoint} failed for extract date {extract_date.isoformat()}: "
                 f"{count} critical expectation{'s' if count != 1 else ''} failed."]
        for outcome in failed:
            lines.append(f"Suite {outcome.suite}:")
            lines.extend(f"  - {failure}" for failure in outcome.critical_failures)
        lines.append(f"Details in Data Docs: {data_docs_index()}")
        super().__init__("\n".join(lines))


def data_docs_index() -> pathlib.Path:
    """The Data Docs home page (it exists once a checkpoint has run)."""
    return GX_PROJECT_DIR / "gx" / "uncommitted" / "data_docs" / DATA_DOCS_SITE / "index.html"


def run_checkpoint(
    connection_url: str,
    group: str,
    *,
    extract_date: datetime.date,
    marts_schema: str = "marts_build",
    run_id: str | None = None,
    record: bool = True,
) -> list[SuiteOutcome]:
    """Validate one night for one group of suites ("raw" or "marts").

    ``connection_url`` is a SQLAlchemy URL, e.g. ``Settings.connection.url``.
    ``marts_schema`` is where the marts suites find their tables (the build schema
    before publication). ``run_id`` names the pipeline run in the dq tables (the
    Airflow run id; default ``manual__<extract date>``). With ``record`` every
    result is written to ``dq.validation_results`` *before* a failure is raised,
    so a night that is held back has its evidence. Returns the outcome of each
    suite; raises ``QualityGateFailed`` if any critical expectation failed.
    """
    if group not in declared.GROUPS:
        raise ValueError(f"Unknown expectation group {group!r}; choose one of {', '.join(declared.GROUPS)}")
    # A datetime is also a date; its isoformat() would put a time into the asset's query.
    if isinstance(extract_date, datetime.datetime) or not isinstance(extract_date, datetime.date):
        raise TypeError(f"extract_date must be a datetime.date, got {extract_date!r}")
    if not _SCHEMA_NAME.match(marts_schema):
        raise ValueError(f"marts_schema must be a plain lower-case schema name, got {marts_schema!r}")
    run_id = run_id or f"manual__{extract_date.isoformat()}"
    checkpoint_name = f"nightly_{group}"
    gx_run_name = f"{checkpoint_name}_{extract_date.isoformat()}"

    conn = psycopg2.connect(connection_url, connect_timeout=10, application_name="safeguarding-quality-gates")
    try:
        suites, parameters = suites_for_night(conn, group, extract_date, marts_schema)
        partitions = night_partitions(conn, suites, extract_date)
        conn.rollback()  # hold no transaction (and no lock) open while GX runs
        if not suites:
            log.warning("%s: nothing to validate for %s (no %s tables)", checkpoint_name, extract_date,
                        "raw feed" if group == "raw" else marts_schema)
            return []
        result = _run_gx(connection_url, checkpoint_name, gx_run_name, suites, parameters, extract_date,
                         marts_schema, partitions)
        suite_by_name = {s.name: s for s in suites}
        rows: list[dict[str, Any]] = []
        for suite_result in result.run_results.values():
            rows.extend(_result_rows(conn, suite_by_name[suite_result.suite_name], suite_result,
                                     extract_date, marts_schema, parameters))
        if record:
            from warehouse import dq

            dq.record_validation(conn, run_id=run_id, extract_date=extract_date, checkpoint=checkpoint_name,
                                 gx_run_name=gx_run_name, results=rows, data_docs=str(data_docs_index()))
    finally:
        conn.close()

    outcomes = [_outcome(suite_result, parameters) for suite_result in result.run_results.values()]
    for outcome in outcomes:
        log.info("%s %s: %s, %d expectations, %d critical failures, %d warnings", checkpoint_name,
                 outcome.suite, "passed" if outcome.success else "FAILED", outcome.evaluated,
                 len(outcome.critical_failures), len(outcome.warnings))
        for message in outcome.warnings:
            log.warning("%s %s: %s", checkpoint_name, outcome.suite, message)
    if any(o.critical_failures for o in outcomes):
        raise QualityGateFailed(checkpoint_name, extract_date, outcomes)
    return outcomes


def suites_for_night(conn, group: str, extract_date: datetime.date,
                     marts_schema: str = "marts_build") -> tuple[tuple[declared.Suite, ...], dict[str, Any]]:
    """The suites to run for one night, and their run-time parameters, from what is in the database.

    raw: one suite per declared feed whose raw table exists; the row-count parameters
    come from raw.load_manifest. marts: one suite per table in the build schema,
    generated from its columns (information_schema).
    """
    with conn.cursor() as cur:
        if group == "raw":
            cur.execute("select table_name from information_schema.tables where table_schema = 'raw'")
            present = {r[0] for r in cur.fetchall()}
            # Less what retention removed from the batch since (pipeline/retention.py).
            cur.execute("select feed, sum(rows_loaded - coalesce(rows_expired, 0)) from raw.load_manifest "
                        "where extract_date = %s and status = 'loaded' group by feed", (extract_date,))
            manifest_rows = {feed: int(n or 0) for feed, n in cur.fetchall()}
            # Every nightly feed (a missing one is a failure to see); a statutory return's tables only
            # on a night that imported one: a return comes once a year, and on the nights between its
            # row count is no news (it warned on every night after an import).
            feeds = tuple(f for f in FEEDS if f.id in present) + tuple(
                f for f in RETURN_FEEDS if f.id in present and f.id in manifest_rows)
            if not feeds:
                return (), {}
            cur.execute(
                """select feed, avg(rows_loaded) from (
                       select feed, rows_loaded,
                              row_number() over (partition by feed order by extract_date desc) as recency
                       from raw.load_manifest where status = 'loaded' and extract_date < %s) recent
                   where recency <= %s group by feed""", (extract_date, declared.RECENT_NIGHTS))
            recent = {feed: float(avg) for feed, avg in cur.fetchall() if avg is not None}
            return declared.raw_suites(feeds), declared.raw_parameters(feeds, manifest_rows, recent)
        cur.execute("select table_name, column_name, data_type from information_schema.columns "
                    "where table_schema = %s order by table_name, ordinal_position", (marts_schema,))
        tables: dict[str, dict[str, str]] = {}
        for table, column, data_type in cur.fetchall():
            tables.setdefault(table, {})[column] = data_type
    return declared.mart_suites(tables, extract_date, marts_schema), {}


def night_partitions(conn, suites, extract_date: datetime.date) -> dict[str, str]:
    """{suite name: the table holding the night's rows} for suites of a table partitioned by night.

    The loader attaches each night's batch of a feed as a partition of the feed's table, for
    values in (that extract date). Validating that table itself reads exactly the night's rows.
    """
    nightly = [s for s in suites if s.night_column]
    if not nightly:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            """select parent.relname, child.relname from pg_inherits i
               join pg_class child on child.oid = i.inhrelid
               join pg_class parent on parent.oid = i.inhparent
               where parent.relnamespace = any(%s::regnamespace[])
                 and pg_get_expr(child.relpartbound, child.oid) = %s""",
            (sorted({s.schema for s in nightly}), f"FOR VALUES IN ('{extract_date.isoformat()}')"))
        by_table = dict(cur.fetchall())
    return {s.name: by_table[s.table] for s in nightly if s.table in by_table}


def _run_gx(connection_url: str, checkpoint_name: str, gx_run_name: str, suites, parameters: dict[str, Any],
            extract_date: datetime.date, marts_schema: str, partitions: dict[str, str] | None = None):
    """Sync the suites into the GX context and run them as one checkpoint (with Data Docs)."""
    # GX reads the URL from the environment when it connects (see _register_datasource).
    # Restore the previous value afterwards so that processes this one starts later do not
    # inherit the secret.
    previous = os.environ.get(CONNECTION_ENV_VAR)
    os.environ[CONNECTION_ENV_VAR] = connection_url
    try:
        import great_expectations as gx  # here, not at module top: it takes ~11 s

        with _one_run_at_a_time(), warnings.catch_warnings():
            # TableAsset's schema_name is deprecated since GX 1.14 in favour of "the schema in the
            # data source's connection", which PostgresDatasource does not have (only a
            # search_path in the URL, which would tie the one data source to one schema).
            warnings.filterwarnings("ignore", message=".*schema_name. is deprecated", category=DeprecationWarning)

            context = _context(gx)
            _forget_checkpoint(context, checkpoint_name)
            datasource = _register_datasource(context)
            validation_definitions = [
                _validation_definition(gx, context, datasource, suite, extract_date, marts_schema,
                                       (partitions or {}).get(suite.name))
                for suite in suites
            ]
            checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
                name=checkpoint_name,
                validation_definitions=validation_definitions,
                # No UpdateDataDocsAction: it rebuilds the site once per validation result (21 raw
                # suites: 21 rebuilds, most of a run's time). Data Docs are built once, below.
                actions=[],
                result_format=COUNTS_ONLY,
            ))
            result = checkpoint.run(
                # The run name puts the night in Data Docs' list of runs. Give run_time: without
                # it GX tries to parse a date-time out of the run name.
                run_id=gx.RunIdentifier(run_name=gx_run_name,
                                        run_time=datetime.datetime.now(datetime.timezone.utc)),
                expectation_parameters=parameters,
            )
            _detail_failures(gx, result, {vd.name: vd for vd in validation_definitions}, parameters,
                             RAW_RESULT_FORMAT if checkpoint_name.endswith("raw") else RESULT_FORMAT)
            _build_data_docs(context, result, suites)
            return result
    finally:
        if previous is None:
            os.environ.pop(CONNECTION_ENV_VAR, None)
        else:
            os.environ[CONNECTION_ENV_VAR] = previous


def _detail_failures(gx: Any, result: Any, definitions: dict[str, Any], parameters: dict[str, Any],
                     result_format: dict[str, Any]) -> None:
    """Validate the column checks that failed once more, with their first failing values or row
    numbers (result_format), and put those results in the checkpoint's place (_build_data_docs then
    stores them, without the values). Checks that passed, and SQL checks (whose sample
    _sql_check_sample takes), are not run again."""
    for suite_result in result.run_results.values():
        failed = [r for r in suite_result.results if not r.success and "unexpected_count" in (r.result or {})]
        if not failed:
            continue
        batch = definitions[suite_result.suite_name].data.get_batch()
        again = batch.validate(
            gx.ExpectationSuite(name=f"{suite_result.suite_name}__failed",
                                expectations=[copy.copy(r.expectation_config.to_domain_obj()) for r in failed]),
            result_format=result_format, expectation_parameters=parameters)
        for first, detailed in zip(failed, again.results):
            first.result = detailed.result


def _build_data_docs(context: Any, result: Any, suites) -> None:
    """Tonight's result pages, the suites' pages (the index links to them), and the index;
    offline, with warnings shown as warnings and no child's values kept (expectations/data_docs.py)."""
    import copy

    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from . import data_docs

    # The results GX stored keep up to five unexpected values per failed check: store them again
    # without those (the in-memory result keeps them for the dq sample, which takes only safe ones).
    for identifier, suite_result in result.run_results.items():
        context.validation_results_store.set(identifier, data_docs.withhold_values(copy.deepcopy(suite_result)))
    site = data_docs_index().parent
    started = time.time() - 1  # file times have a resolution of their own
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=[
        *result.run_results.keys(), *(ExpectationSuiteIdentifier(name=suite.name) for suite in suites)])
    data_docs.make_offline(site, [page for page in site.rglob("*.html") if page.stat().st_mtime >= started])
    warning_pages = []
    for identifier, suite_result in result.run_results.items():
        if data_docs.only_warnings_failed(suite_result):
            for url in context.get_docs_sites_urls(resource_identifier=identifier, site_name=DATA_DOCS_SITE):
                if url.get("site_url", "").startswith("file://"):
                    warning_pages.append(pathlib.Path(url["site_url"][len("file://"):]))
    data_docs.mark_warnings(site, warning_pages)


# --- the GX context and what run_checkpoint keeps in it ------------------------------------------

@contextlib.contextmanager
def _one_run_at_a_time():
    """Wait for any other checkpoint run on this machine to finish, then hold the GX folder.

    Every run rewrites the shared data source in great_expectations.yml; two runs at once
    (two Airflow tasks, a backfill) could each find their asset gone. The lock is released
    when the file is closed, also if the process dies.
    """
    lock_file = GX_PROJECT_DIR / "gx" / ".run.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _context(gx: Any):
    context = gx.get_context(mode="file", project_root_dir=str(GX_PROJECT_DIR))
    # Data Docs: newest results only (see DATA_DOCS_VALIDATION_RESULTS_LIMIT), and no "how to"
    # buttons, which link to GX tutorials rather than help the reader of a report.
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": f"uncommitted/data_docs/{DATA_DOCS_SITE}/",
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DATA_DOCS_VALIDATION_RESULTS_LIMIT,
        },
    }
    # Progress bars are for notebooks; in a task log they are hundreds of lines of noise.
    # (A dict when read from the yml, a ProgressBarsConfig when set in this process: both have get.)
    bars = context.variables.progress_bars
    if bars is None or bars.get("globally", True) or bars.get("metric_calculations", True):
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    sites = context.list_data_docs_sites()
    if DATA_DOCS_SITE not in sites:
        context.add_data_docs_site(DATA_DOCS_SITE, site)
    elif sites[DATA_DOCS_SITE] != site:
        context.update_data_docs_site(DATA_DOCS_SITE, site)
    return context


def _forget_checkpoint(context: Any, name: str) -> None:
    """Drop the checkpoint an earlier run saved: this run saves its own.

    The saved one names that run's suites, and their assets are gone once the data source
    is replaced (_register_datasource). When this run validates other tables (a returns
    import, a new warehouse), GX cannot even load the old checkpoint to update it, so it
    is removed by key, without loading it.
    """
    store = context.checkpoint_store
    key = store.get_key(name=name)
    if store.has_key(key):
        store.remove_key(key.to_tuple())


def _register_datasource(context: Any):
    # The literal "${...}" is what is saved in great_expectations.yml. GX substitutes the
    # environment variable each time it creates the SQLAlchemy engine.
    # add_or_update replaces the data source with a new one that has no assets: every run
    # adds back the assets it needs (_validation_definition).
    return context.data_sources.add_or_update_postgres(
        name=DATASOURCE_NAME,
        connection_string="${" + CONNECTION_ENV_VAR + "}",
    )


def _validation_definition(gx: Any, context: Any, datasource: Any, suite: declared.Suite,
                           extract_date: datetime.date, marts_schema: str, partition: str | None = None):
    """Asset, batch definition, suite and validation definition for one suite, all named after it.

    ``partition``: the table holding the night's rows of a suite with a night column (night_partitions)."""
    # An asset's query or schema cannot be edited in place, and an old one may be left from a
    # previous run: delete it and add it again.
    if suite.name in datasource.get_asset_names():
        datasource.delete_asset(suite.name)
    if partition:
        # Only the night being processed: its partition, as a table. Not a daily batch definition
        # (GX would first list the distinct dates of the whole table), and not a query asset with
        # the night's filter: to learn a query asset's column names GX runs the query once and
        # fetches every row into this process (GX issue #8797, still in 1.24): 800 MB of memory and
        # 5 of the gate's 57 s at three boroughs, growing with the region.
        asset = datasource.add_table_asset(name=suite.name, table_name=partition, schema_name=suite.schema)
    elif suite.night_column:
        # No batch for the night (a feed not delivered): the night's rows, none. extract_date is a
        # date (checked above), so its isoformat() is safe in SQL.
        asset = datasource.add_query_asset(
            name=suite.name,
            query=(f"SELECT * FROM {suite.schema}.{suite.table} "
                   f"WHERE {suite.night_column} = '{extract_date.isoformat()}'"),
        )
    else:
        asset = datasource.add_table_asset(
            name=suite.name, table_name=suite.table, schema_name=suite.schema or marts_schema,
        )
    batch_definition = asset.add_batch_definition_whole_table(BATCH_DEFINITION_NAME)

    gx_suite = context.suites.add_or_update(declared.build_suite(suite))
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite)
    )


# --- reading the result --------------------------------------------------------------------------

def _outcome(suite_result: Any, parameters: dict[str, Any] | None = None) -> SuiteOutcome:
    critical_failures: list[str] = []
    warning_messages: list[str] = []
    for result in suite_result.results:
        if result.success:
            continue
        config = result.expectation_config
        # An expectation declared without a severity is critical, as in GX itself.
        severity = str(getattr(config.severity, "value", config.severity) or "critical")
        (warning_messages if severity == "warning" else critical_failures).append(_describe(result, parameters))
    return SuiteOutcome(
        suite=suite_result.suite_name,
        success=not critical_failures,
        critical_failures=critical_failures,
        warnings=warning_messages,
        evaluated=suite_result.statistics.get("evaluated_expectations", len(suite_result.results)),
    )


def _result_rows(conn, suite: declared.Suite, suite_result: Any, extract_date: datetime.date,
                 marts_schema: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """One dq.validation_results row per expectation result (see warehouse/dq.py).

    The sample of unexpected keys never holds source values that could identify a
    child: raw gives the row numbers in the delivered file; marts give pseudonymous
    keys, codes or numbers, except where a ``_key`` column failed its pseudonym check
    (then the value might be a raw identifier, and is withheld).
    """
    rows = []
    for result in suite_result.results:
        config = result.expectation_config
        # The night's values of run-time parameters, so the evidence says what was expected.
        kwargs = {k: (parameters.get(v["$PARAMETER"], v) if isinstance(v, dict) and "$PARAMETER" in v else v)
                  for k, v in config.kwargs.items() if k != "batch_id"}
        details = result.result or {}
        severity = str(getattr(config.severity, "value", config.severity) or "critical")
        column = kwargs.get("column")
        sample, kind = None, None
        if not result.success:
            if config.type == "unexpected_rows_expectation":
                sample = _sql_check_sample(conn, suite, kwargs["unexpected_rows_query"], extract_date, marts_schema)
                kind = "row_number" if suite.group == "raw" else "key"
            elif details.get("partial_unexpected_index_list"):
                sample = [row.get("_row_number") for row in details["partial_unexpected_index_list"]][:SAMPLE_SIZE]
                kind = "row_number"
            elif suite.group == "marts" and details.get("partial_unexpected_list") is not None:
                if column and column.endswith("_key") and config.type in KEY_FORMAT_CHECKS:
                    kind = "withheld"
                else:
                    sample = [v for v in details["partial_unexpected_list"]][:SAMPLE_SIZE]
                    kind = "key" if column and column.endswith("_key") else "value"
        if "observed_value" in details and config.type != "unexpected_rows_expectation":
            observed = f"{details['observed_value']} (expected {_expected(kwargs)})"
        elif "observed_value" in details:
            observed = f"{details['observed_value']} rows found"
        elif "unexpected_count" in details:
            observed = f"{details['unexpected_count']} unexpected of {details.get('element_count')} rows"
        else:
            observed = None
        rows.append({
            "suite": suite.name,
            "expectation": declared.check_label(config.type, kwargs, _description(config)),
            "expectation_type": config.type,
            "column_name": column,
            "severity": severity,
            "success": bool(result.success),
            "observed_value": None if observed is None else str(observed),
            "element_count": details.get("element_count"),
            "unexpected_count": details.get("unexpected_count",
                                            details.get("observed_value")
                                            if config.type == "unexpected_rows_expectation" else None),
            "unexpected_percent": details.get("unexpected_percent"),
            "unexpected_sample": sample,
            "sample_kind": kind,
            "exception_message": _error_message(result.exception_info),
            "arguments": kwargs,
            "why": _why(config),
        })
    return rows


def _sql_check_sample(conn, suite: declared.Suite, query: str, extract_date: datetime.date,
                      marts_schema: str) -> list[Any] | None:
    """The first rows a failed SQL check returns, re-run here with a limit (GX's SUMMARY keeps none)."""
    if suite.night_column:
        # The same alias GX gives a query asset's batch ("subselect"), which the SQL checks use.
        batch = (f"(select * from {suite.schema}.{suite.table} "
                 f"where {suite.night_column} = '{extract_date.isoformat()}') as subselect")
    else:
        batch = f"{suite.schema or marts_schema}.{suite.table}"
    try:
        with conn.cursor() as cur:
            cur.execute(f"select * from ({query.replace('{batch}', batch)}) failing limit {SAMPLE_SIZE}")
            rows = cur.fetchall()
        conn.rollback()
    except psycopg2.Error as exc:
        conn.rollback()
        log.warning("could not sample the rows of a failed check in %s: %s", suite.name, exc)
        return None
    return [row[0] if len(row) == 1 else list(row) for row in rows]


def _describe(result: Any, parameters: dict[str, Any] | None = None) -> str:
    """One line per failed expectation: which check, on which column, what was found."""
    config = result.expectation_config
    name = declared.check_label(config.type, config.kwargs, _description(config))
    error = _error_message(result.exception_info)
    if error:
        return f"{name}: could not be evaluated: {error}"
    details = result.result or {}
    if config.type == "unexpected_rows_expectation":
        return f"{name}: {details.get('observed_value')} offending rows"
    if "unexpected_count" not in details:  # an aggregate: row count, column max, ...
        return f"{name}: observed {details.get('observed_value')}, expected {_expected(config.kwargs, parameters)}"
    text = (f"{name}: {details['unexpected_count']} unexpected of {details.get('element_count')} rows "
            f"({details.get('unexpected_percent') or 0:.2f}% of non-null values)")
    # Example values only for code lists: they are codes. Other values (ids, keys, dates) may
    # identify a child, and this message goes to task logs and alerts; Data Docs show them.
    if config.type == "expect_column_values_to_be_in_set":
        examples = list(dict.fromkeys(str(v) for v in details.get("partial_unexpected_list") or []))
        if examples:
            text += f", e.g. {', '.join(examples[:3])}"
    return text


def _why(config: Any) -> str | None:
    """Why the check exists: the ``why`` declared with it in expectations/suites.py (GX keeps it as notes)."""
    notes = getattr(config, "notes", None)
    if isinstance(notes, list):
        notes = " ".join(str(n) for n in notes)
    return str(notes).strip() or None if notes else None


def _description(config: Any) -> str | None:
    """The description a SQL check was declared with (GX keeps it beside the kwargs)."""
    return getattr(config, "description", None) or config.kwargs.get("description")


def _error_message(exception_info: dict | None) -> str | None:
    """The first error message in a result's exception_info, or None.

    GX 1.x fills exception_info in two shapes: flat ({"raised_exception": True,
    "exception_message": ...}) when the expectation itself raised, and one such dict
    per metric when computing a metric failed (a missing column, an SQL error).
    """
    if not exception_info:
        return None
    candidates = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in candidates:
        if isinstance(info, dict) and (info.get("raised_exception") or info.get("exception_message")):
            return (info.get("exception_message") or "unknown error").strip().splitlines()[0]
    return None


def _expected(kwargs: dict[str, Any], parameters: dict[str, Any] | None = None) -> str:
    parameters = parameters or {}
    shown = {k: (parameters.get(v["$PARAMETER"], v) if isinstance(v, dict) and "$PARAMETER" in v else v)
             for k, v in kwargs.items() if k not in ("column", "batch_id")}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "success"
