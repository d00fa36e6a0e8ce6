"""Run a group of suites ("raw" or "marts") as one GX checkpoint, and gate on the result.

What one call of ``run_checkpoint`` does, in order:

1. Opens the GX *file* context in ``expectations/gx/`` (created on first use).
2. Registers the one PostgreSQL data source, ``warehouse``. Its connection string
   in ``great_expectations.yml`` is the placeholder ``${SAFEGUARDING_GX_CONNECTION}``;
   GX substitutes the environment variable when it connects, so the password is
   never written to disk.
3. For each suite of the group: (re)creates the asset (raw: a query for the one
   night being processed; marts: the table in the build schema), a whole-asset
   batch definition, the suite (from ``expectations.suites``) and a validation
   definition; then the group's checkpoint, ``nightly_<group>``, which updates
   Data Docs. Everything uses add_or_update or delete-then-add, so re-running for
   the same night, or another night, gives the same state.
4. Runs the checkpoint. The expectations run as SQL in the database; no table is
   read into pandas.
5. Returns one ``SuiteOutcome`` per suite, or raises ``QualityGateFailed`` if a
   critical expectation failed (Data Docs are already built by then, so the
   failure can be inspected there).

Runs on one machine take turns (a file lock in ``expectations/gx/``): they share
``great_expectations.yml``, and two at once would overwrite each other's assets.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import pathlib
import re
import warnings
from dataclasses import dataclass
from typing import Any

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
# SUMMARY keeps counts and example failing values for Data Docs. Five examples are enough to
# diagnose a failure and keep few source values (which may identify a child) on disk.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}

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
) -> list[SuiteOutcome]:
    """Validate one night for one group of suites ("raw" or "marts").

    ``connection_url`` is a SQLAlchemy URL, e.g. ``Settings.connection.url``.
    ``marts_schema`` is where the marts suites find their tables (the build schema
    before publication). Returns the outcome of each suite; raises
    ``QualityGateFailed`` if any critical expectation failed.
    """
    suites = declared.suites_for(group)
    # A datetime is also a date; its isoformat() would put a time into the asset's query.
    if isinstance(extract_date, datetime.datetime) or not isinstance(extract_date, datetime.date):
        raise TypeError(f"extract_date must be a datetime.date, got {extract_date!r}")
    if not _SCHEMA_NAME.match(marts_schema):
        raise ValueError(f"marts_schema must be a plain lower-case schema name, got {marts_schema!r}")

    checkpoint_name = f"nightly_{group}"

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
            datasource = _register_datasource(context)
            validation_definitions = [
                _validation_definition(gx, context, datasource, suite, extract_date, marts_schema)
                for suite in suites
            ]
            checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
                name=checkpoint_name,
                validation_definitions=validation_definitions,
                actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[DATA_DOCS_SITE])],
                result_format=RESULT_FORMAT,
            ))
            result = checkpoint.run(
                # The run name puts the night in Data Docs' list of runs. Give run_time: without
                # it GX tries to parse a date-time out of the run name.
                run_id=gx.RunIdentifier(run_name=f"{checkpoint_name}_{extract_date.isoformat()}",
                                        run_time=datetime.datetime.now(datetime.timezone.utc)),
                expectation_parameters=declared.parameters(extract_date),
            )
    finally:
        if previous is None:
            os.environ.pop(CONNECTION_ENV_VAR, None)
        else:
            os.environ[CONNECTION_ENV_VAR] = previous

    outcomes = [_outcome(suite_result) for suite_result in result.run_results.values()]
    for outcome in outcomes:
        log.info("%s %s: %s, %d expectations, %d critical failures, %d warnings", checkpoint_name,
                 outcome.suite, "passed" if outcome.success else "FAILED", outcome.evaluated,
                 len(outcome.critical_failures), len(outcome.warnings))
        for message in outcome.warnings:
            log.warning("%s %s: %s", checkpoint_name, outcome.suite, message)
    if any(o.critical_failures for o in outcomes):
        raise QualityGateFailed(checkpoint_name, extract_date, outcomes)
    return outcomes


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
                           extract_date: datetime.date, marts_schema: str):
    """Asset, batch definition, suite and validation definition for one suite, all named after it."""
    # An asset's query or schema cannot be edited in place, and an old one may be left from a
    # previous run: delete it and add it again.
    if suite.name in datasource.get_asset_names():
        datasource.delete_asset(suite.name)
    if suite.night_column:
        # Only the night being processed. Not a daily batch definition: GX would first list the
        # distinct dates of the whole table, then filter on extract(year/month/day ...), which
        # PostgreSQL cannot use to skip partitions. "= '<date>'" on the partition key reads one
        # partition. extract_date is a date (checked above), so its isoformat() is safe in SQL.
        # Known cost (GX issue #8797, still in 1.24): to learn a query asset's column names GX
        # runs the query once as it is and discards the rows, so the night's rows are sent to
        # this process once (not into pandas; thousands of rows a night here).
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

def _outcome(suite_result: Any) -> SuiteOutcome:
    critical_failures: list[str] = []
    warning_messages: list[str] = []
    for result in suite_result.results:
        if result.success:
            continue
        config = result.expectation_config
        # An expectation declared without a severity is critical, as in GX itself.
        severity = str(getattr(config.severity, "value", config.severity) or "critical")
        (warning_messages if severity == "warning" else critical_failures).append(_describe(result))
    return SuiteOutcome(
        suite=suite_result.suite_name,
        success=not critical_failures,
        critical_failures=critical_failures,
        warnings=warning_messages,
        evaluated=suite_result.statistics.get("evaluated_expectations", len(suite_result.results)),
    )


def _describe(result: Any) -> str:
    """One line per failed expectation: which check, on which column, what was found."""
    config = result.expectation_config
    column = config.kwargs.get("column")
    name = f"{config.type}({column})" if column else config.type
    error = _error_message(result.exception_info)
    if error:
        return f"{name}: could not be evaluated: {error}"
    details = result.result or {}
    if "unexpected_count" not in details:  # an aggregate: row count, column max, ...
        return f"{name}: observed {details.get('observed_value')}, expected {_expected(config.kwargs)}"
    text = (f"{name}: {details['unexpected_count']} unexpected of {details.get('element_count')} rows "
            f"({details.get('unexpected_percent') or 0:.2f}% of non-null values)")
    # Example values only for code lists: they are codes. Other values (ids, keys, dates) may
    # identify a child, and this message goes to task logs and alerts; Data Docs show them.
    if config.type == "expect_column_values_to_be_in_set":
        examples = list(dict.fromkeys(str(v) for v in details.get("partial_unexpected_list") or []))
        if examples:
            text += f", e.g. {', '.join(examples[:3])}"
    return text


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


def _expected(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "batch_id")}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "success"
