"""The expectation suites, declared as plain data.

Why plain data: the suites are the reviewable part of the quality gates, so they
live in code review, not in JSON that Great Expectations writes. Nothing here
imports great_expectations (its import takes ~11 s, and Airflow imports this
package while parsing DAGs); ``build_suite()`` turns a ``Suite`` into GX objects
inside the task that runs the checks. ``validate.run_checkpoint`` syncs every
suite into the GX context with add_or_update on every run, so what runs is always
what is written here.

Severity:

* ``critical``: the night's data must not be published. ``run_checkpoint``
  raises ``QualityGateFailed`` after Data Docs are built.
* ``warning``: published, but flagged in Data Docs and returned to the caller.

Column map expectations (not null aside) ignore NULLs: a value-set or regex check
passes a NULL. Pair them with a not-null check where a NULL is itself an error.

Codes come from the feed declarations in ``extract.feeds`` so that the loader,
the generator and these checks can never disagree about a code list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from extract.feeds import (
    CRS_MISSING_EPISODES,
    MISSING_TYPES,
    RHI_CONDUCTED_BY,
    RHI_OUTCOMES,
    YES_NO,
)

Severity = Literal["critical", "warning"]
Group = Literal["raw", "marts"]

# "YYYY-MM-DD HH:MM", the source systems' local date-time format (extract.generate.TIMESTAMP_FORMAT).
SOURCE_TIMESTAMP_REGEX = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"
# Pseudonymous keys are HMAC-SHA256 digests in lower-case hex (dbt macro pseudonymise).
PSEUDONYMOUS_KEY_REGEX = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Check:
    """One expectation: a GX expectation class name, its arguments and its severity."""

    expectation: str  # class in great_expectations.expectations, e.g. "ExpectColumnValuesToNotBeNull"
    severity: Severity
    kwargs: dict[str, Any]
    why: str = ""  # shown as the expectation's notes in Data Docs

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


def critical(expectation: str, why: str = "", **kwargs: Any) -> Check:
    return Check(expectation, "critical", kwargs, why)


def warning(expectation: str, why: str = "", **kwargs: Any) -> Check:
    return Check(expectation, "warning", kwargs, why)


@dataclass(frozen=True)
class Suite:
    """A suite and the table it validates.

    ``schema=None`` means the schema is given at run time (the marts are checked in
    the build schema before they are published). ``night_column`` set means the
    table holds many nights and only the night being processed is validated.
    """

    name: str
    group: Group
    table: str
    checks: tuple[Check, ...]
    schema: str | None = None
    night_column: str | None = None
    description: str = ""


# --- raw zone: one night's extract, as delivered (all source columns are text) ------------------

_raw_schema, _raw_table = CRS_MISSING_EPISODES.raw_table.split(".")

RAW_CRS_MISSING_EPISODES = Suite(
    name=CRS_MISSING_EPISODES.raw_table,  # raw.crs__missing_episodes
    group="raw",
    schema=_raw_schema,
    table=_raw_table,
    night_column="_extract_date",
    description="One night's extract of missing episodes from the case recording system.",
    checks=(
        critical("ExpectTableRowCountToBeBetween", min_value=1,
                 why="An empty extract means the source export failed, not that nobody went missing."),
        critical("ExpectColumnValuesToNotBeNull", column="episode_id"),
        critical("ExpectColumnValuesToBeUnique", column="episode_id",
                 why="The episode id is the feed's key within one extract."),
        critical("ExpectColumnValuesToNotBeNull", column="person_id"),
        critical("ExpectColumnValuesToNotBeNull", column="missing_type"),
        critical("ExpectColumnValuesToBeInSet", column="missing_type", value_set=list(MISSING_TYPES),
                 why="SSDA903 MISSING codes: M missing, A away from placement without authorisation."),
        critical("ExpectColumnValuesToNotBeNull", column="looked_after"),
        critical("ExpectColumnValuesToBeInSet", column="looked_after", value_set=list(YES_NO)),
        critical("ExpectColumnValuesToNotBeNull", column="missing_start"),
        critical("ExpectColumnValuesToMatchRegex", column="missing_start", regex=SOURCE_TIMESTAMP_REGEX,
                 why="Staging casts it with ::timestamp: another format fails the dbt run, or, "
                     "like 01/02/2026 10:00, may be read with day and month swapped."),
        # NULL means the episode is still open; regex expectations skip NULLs.
        warning("ExpectColumnValuesToMatchRegex", column="missing_end", regex=SOURCE_TIMESTAMP_REGEX,
                mostly=1.0, why="Empty while the episode is open; otherwise the same format as missing_start."),
    ),
)

# --- marts: checked in the build schema, before publication --------------------------------------

# Suite parameter: a value given at run time (see parameters()), so the suite itself does not
# change from night to night.
LATEST_RETURN_MONTH = "latest_return_month"

MARTS_RETURN_HOME_INTERVIEWS = Suite(
    name="marts.mart_return_home_interviews",
    group="marts",
    table="mart_return_home_interviews",
    description="Return home interview timeliness, one row per missing episode.",
    checks=(
        critical("ExpectTableRowCountToBeBetween", min_value=1),
        critical("ExpectColumnValuesToNotBeNull", column="episode_key"),
        critical("ExpectColumnValuesToBeUnique", column="episode_key",
                 why="One row per missing episode."),
        critical("ExpectColumnValuesToNotBeNull", column="person_key"),
        critical("ExpectColumnValuesToMatchRegex", column="person_key", regex=PSEUDONYMOUS_KEY_REGEX,
                 why="Keys are HMAC-SHA256 in hex. Anything else may be a raw identifier leaking into a mart."),
        critical("ExpectColumnValuesToBeInSet", column="episode_status", value_set=["open", "returned"]),
        warning("ExpectColumnValuesToBeBetween", column="hours_to_interview", min_value=0, max_value=8760,
                why="More than a year, or before the return, is almost certainly a recording error."),
        # "Not in the future", checked where GX can do it in SQL: no episode can be reported in a
        # month after the extract. One month of slack covers an extract taken after midnight at
        # month end. A warning: one mistyped source date should not stop the night's publication.
        warning("ExpectColumnMaxToBeBetween", column="return_month",
                max_value={"$PARAMETER": LATEST_RETURN_MONTH},
                why="The latest return month is at most the month after the extract date."),
        # NULL outcome and conducted_by are expected: episodes with no RHI form have neither.
        critical("ExpectColumnValuesToBeInSet", column="outcome", value_set=list(RHI_OUTCOMES)),
        critical("ExpectColumnValuesToBeInSet", column="conducted_by", value_set=list(RHI_CONDUCTED_BY)),
    ),
)

SUITES: tuple[Suite, ...] = (RAW_CRS_MISSING_EPISODES, MARTS_RETURN_HOME_INTERVIEWS)


def suites_for(group: str) -> tuple[Suite, ...]:
    found = tuple(s for s in SUITES if s.group == group)
    if not found:
        groups = sorted({s.group for s in SUITES})
        raise ValueError(f"Unknown expectation group {group!r}; choose one of {', '.join(groups)}")
    return found


def parameters(extract_date: datetime.date) -> dict[str, Any]:
    """Values for the suites' run-time parameters ({"$PARAMETER": name}) for one night."""
    first_of_next_month = (extract_date.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return {LATEST_RETURN_MONTH: first_of_next_month.isoformat()}


def build_suite(suite: Suite):
    """The GX ExpectationSuite for a declared suite. Imports great_expectations: call it in a task."""
    import great_expectations as gx

    expectations = []
    for check in suite.checks:
        expectation_class = getattr(gx.expectations, check.expectation)
        expectations.append(expectation_class(
            **check.kwargs,
            # GX 1.x has its own severity field, and it defaults to critical: set it, so that
            # GX's own view (get_max_severity_failure, Data Docs) agrees with ours. The meta copy
            # keeps the severity visible in the suite JSON and in Data Docs' meta column.
            severity=check.severity,
            meta={"severity": check.severity},
            notes=check.why or None,
        ))
    return gx.ExpectationSuite(
        name=suite.name,
        expectations=expectations,
        meta={"description": suite.description, "declared_in": "expectations/suites.py"},
    )
