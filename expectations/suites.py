"""The expectation suites: generated from declarations, plus a few written by hand.

Why generated: there is one suite per raw feed and one per mart, and both lists
grow. A rule written once here ("every required column is not null", "every
``_rate`` is between 0 and 1") then holds for every feed and mart, including the
next one onboarded, and cannot be forgotten for it.

* Raw suites come from the feed declarations in ``extract.feeds`` (columns,
  types, codes, keys, start/end): ``raw_suite(feed)``. The loader quarantines
  malformed rows before they reach raw, so these checks mostly confirm that it
  did; they also compare the night's row counts with the load manifest and with
  recent nights, and check consistency across feeds.
* Mart suites come from the columns the build schema actually has, read from
  information_schema at run time (``mart_suites``), following the naming
  conventions every mart keeps: ``_rate`` is a fraction 0..1, ``_key`` is a
  64-hex pseudonym, ``_month``/``_date``/``_at`` are dates. A mart that does not
  exist yet, or lacks a column, simply gets no check for it. Hand-written checks
  (reconciliation with the source) are added per mart in ``HAND_WRITTEN_MART_CHECKS``.

Nothing here imports great_expectations (its import takes ~11 s, and Airflow
imports this package while parsing DAGs); ``build_suite()`` turns a ``Suite``
into GX objects inside the task that runs the checks.

Severity:

* ``critical``: the night's data must not be published. ``run_checkpoint``
  raises ``QualityGateFailed`` after the results are recorded.
* ``warning``: published, but the night is flagged (``marts.publication``,
  ``dq.nightly_runs``, the quality report).

Column map expectations (not null aside) ignore NULLs: a value-set or regex check
passes a NULL. They are paired with a not-null check where a NULL is itself an error.
Every SQL expectation runs in PostgreSQL; nothing is read into pandas.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from extract.feeds import (
    CODE,
    CRS_ALLOCATIONS,
    Column,
    CRS_CARE_LEAVERS,
    CRS_MISSING_EPISODES,
    CRS_PATHWAY_PLAN_EVENTS,
    CRS_PEOPLE,
    CRS_RETURN_HOME_INTERVIEWS,
    DATE,
    DATE_DMY,
    DATETIME,
    FEEDS,
    FLAG,
    NUMBER,
    POLICE_MISSING_NOTIFICATIONS,
    PROVIDER_RETURN_INTERVIEWS,
    RHI_CONDUCTED_BY,
    RHI_OUTCOMES,
    Feed,
)

from .conservation import CONSERVED, EXCLUSIONS_TABLE, counts_sql

Severity = Literal["critical", "warning"]
Group = Literal["raw", "marts"]
GROUPS: tuple[str, ...] = ("raw", "marts")

# Source formats (extract.feeds conventions): dates YYYY-MM-DD, date-times YYYY-MM-DD HH:MM.
SOURCE_DATE_REGEX = r"^\d{4}-\d{2}-\d{2}$"
SOURCE_DMY_DATE_REGEX = r"^\d{2}/\d{2}/\d{4}$"  # the DfE returns' dd/mm/yyyy
SOURCE_TIMESTAMP_REGEX = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"
SOURCE_NUMBER_REGEX = r"^-?\d+(\.\d+)?$"
# Pseudonymous keys are HMAC-SHA256 digests: 64 characters of lower-case hex (dbt macro
# pseudonymise). Checked as two expectations, hex and length, because PostgreSQL's regular
# expressions are slow at counted repetition: '^[0-9a-f]{64}$' took 8.9 s over 350,000 keys where
# '^[0-9a-f]+$' and a length check take 0.6 s (the marts gate's largest cost at region scale).
PSEUDONYMOUS_KEY_REGEX = r"^[0-9a-f]+$"
PSEUDONYMOUS_KEY_LENGTH = 64
# Nothing in children's services is dated before this: an earlier date is a typing error.
EARLIEST_PLAUSIBLE_DATE = "1900-01-01"
# Row counts against recent nights: a warning when a feed delivers fewer than this share
# of its average over the last RECENT_NIGHTS loaded nights (a partial export looks like this).
RECENT_NIGHTS = 7
RECENT_NIGHTS_FLOOR = 0.5
# Date columns that are about the future by nature, so "not after the extract" does not apply.
FUTURE_DATE_WORDS = ("expected", "due", "next", "deadline", "target", "planned", "scheduled", "birthday")
DATE_TYPES = ("date", "timestamp with time zone", "timestamp without time zone")
# Rates whose measure is not a share of a whole, so 0..1 does not hold (docs/rules.md, "Workforce"):
# vacancy is negative when there are more employees than budgeted posts, and must be shown as
# such; turnover (leavers' FTE in a year over employee FTE) exceeds 1 where staff change often.
RATE_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "vacancy_rate": (None, 1),
    "turnover_rate": (0, None),
}
# The denominator of each <x>_rate whose <x>_count is its numerator, where the name does not
# say it (<x>_denominator_count and denominator_count are found without being listed here).
# Mart authors: add a rate here when you add one; the numerator <= denominator and "the rate
# agrees with its counts" checks are then generated for it.
RATE_DENOMINATORS: dict[str, str] = {
    "offered_within_72h_rate": "offer_measured_count",
    "interviewed_within_72h_rate": "interview_measured_count",
    "statutory_on_time_rate": "statutory_measured_count",
    "practice_standard_met_rate": "practice_measured_count",
    "s47_never_reached_icpc_rate": "s47_outcome_known_count",
    "icpc_within_15_working_days_rate": "icpc_timeliness_denominator_count",
    "assessment_within_45_working_days_rate": "assessment_denominator_count",
    "repeat_plan_rate": "plan_started_count",
    "plan_ended_2_years_or_more_rate": "plan_ended_count",
}
# Scorecard measures (measure_id) whose numerator may exceed the denominator: turnover is
# leavers' FTE over a year / employee FTE (docs/rules.md, "Workforce"), not a share of a whole.
MEASURES_NOT_SHARES = frozenset({"WF03"})
# How far a stored (rounded) rate may differ from numerator / denominator.
RATE_TOLERANCE = 0.0005
# Tables in the build schema that are not marts (the publication record, written at publish).
NOT_MARTS = frozenset({"publication"})


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


def sql_check(severity: Severity, description: str, query: str, why: str = "") -> Check:
    """A check written in SQL: ``query`` returns the offending rows, none when all is well.

    ``{batch}`` in the query is the rows being validated (GX substitutes it). The
    description is the check's name in the dq tables, the report and Data Docs, so
    it says what must hold, e.g. "every RHI refers to a recorded missing episode".
    Select identifiers that are safe to show (row numbers in raw, pseudonymous keys
    in marts): the first rows it returns are kept in dq as the sample of unexpected keys.
    """
    return Check("UnexpectedRowsExpectation", severity,
                 {"unexpected_rows_query": query, "description": description}, why)


@dataclass(frozen=True)
class Suite:
    """A suite and the table it validates.

    ``schema=None`` means the schema is given at run time (the marts are checked in
    the build schema before they are published). ``night_column`` set means the
    table holds many nights and only the night being processed is validated.
    ``feeds`` names the feeds the suite's SQL reads besides its own table.
    """

    name: str
    group: Group
    table: str
    checks: tuple[Check, ...]
    schema: str | None = None
    night_column: str | None = None
    description: str = ""


def _q(identifier: str) -> str:
    """A column name quoted for SQL. Names come from declarations and information_schema."""
    return '"' + identifier.replace('"', '""') + '"'


# --- raw zone: one night's batch of each feed, as delivered (all source columns are text) -------

def manifest_rows_parameter(feed: Feed) -> str:
    return f"manifest_rows__{feed.id}"


def recent_floor_parameter(feed: Feed) -> str:
    return f"recent_nights_floor__{feed.id}"


# Cross-feed consistency: (feed, column, referenced feed, referenced column, why). Warnings:
# a reference to a record the other system has not sent yet is worth flagging, not a reason
# to withhold every mart. Both feeds' batches of the same night are compared.
CROSS_FEED_REFERENCES: tuple[tuple[Feed, str, Feed, str, str], ...] = (
    (CRS_RETURN_HOME_INTERVIEWS, "episode_id", CRS_MISSING_EPISODES, "episode_id",
     "An RHI form for an episode the council has not recorded cannot be measured against its return."),
    (CRS_MISSING_EPISODES, "person_id", CRS_PEOPLE, "person_id",
     "Every missing child should be a person known to the case recording system."),
    (CRS_CARE_LEAVERS, "person_id", CRS_PEOPLE, "person_id", ""),
    (CRS_PATHWAY_PLAN_EVENTS, "person_id", CRS_PEOPLE, "person_id", ""),
    (CRS_ALLOCATIONS, "person_id", CRS_PEOPLE, "person_id", ""),
    (PROVIDER_RETURN_INTERVIEWS, "crs_person_id", CRS_PEOPLE, "person_id",
     "The provider's referrals are matched to the council's children by this id."),
    (POLICE_MISSING_NOTIFICATIONS, "crs_person_id", CRS_PEOPLE, "person_id",
     "Where the police give the council's id, it should be a known child."),
)


def _iso_text(column: Column, name: str) -> str:
    """A source date column as ISO text (YYYY-MM-DD...), by moving characters: no cast can fail."""
    if column.type == DATE_DMY:  # dd/mm/yyyy -> yyyy-mm-dd
        return f"(substr({_q(name)}, 7, 4) || '-' || substr({_q(name)}, 4, 2) || '-' || substr({_q(name)}, 1, 2))"
    return _q(name)


def _date_range_check(feed: Feed) -> Check | None:
    """Dates not before 1900 and not after the extract date (text compared as ISO text: no cast can fail)."""
    dated = [c for c in feed.columns if c.type in (DATE, DATETIME, DATE_DMY)
             and not any(word in c.name.lower() for word in FUTURE_DATE_WORDS)]
    if not dated:
        return None
    night = "to_char(_extract_date, 'YYYY-MM-DD')"
    conditions = " or ".join(
        f"left({_iso_text(c, c.name)}, 10) < '{EARLIEST_PLAUSIBLE_DATE}' or left({_iso_text(c, c.name)}, 10) > {night}"
        for c in dated)
    dated = [c.name for c in dated]
    return sql_check(
        "warning", f"dates in range ({', '.join(dated)})",
        f"select _row_number from {{batch}} where {conditions}",
        why=f"Dates before {EARLIEST_PLAUSIBLE_DATE} or after the extract date are typing errors in the source. "
            "What to do: find the rows (their file row numbers are in the sample) and correct the dates in the "
            "source system; the next night's extract carries the correction.")


def _dmy(expression: str) -> str:
    """A dd/mm/yyyy value the loader has already checked, as a date (empty: null)."""
    return f"to_date(nullif({expression}, ''), 'DD/MM/YYYY')"


def _no_overlaps(feed: Feed, start: str, end: str, what: str) -> Check:
    """No two rows of one child overlap in time (an open row runs to infinity)."""
    start, end = start.lower(), end.lower()  # raw column names (extract.feeds.Column)
    mine_start, mine_end = _dmy(f"subselect.{_q(start)}"), _dmy(f"subselect.{_q(end)}")
    other_start, other_end = _dmy(f"other.{_q(start)}"), _dmy(f"other.{_q(end)}")
    return sql_check(
        "warning", f"no overlapping {what} for a child",
        f"select subselect._row_number from {{batch}} where exists (select 1 from {feed.raw_table} other "
        f"where other._extract_date = subselect._extract_date and other.child = subselect.child "
        f"and other._row_number <> subselect._row_number "
        f"and {other_start} < coalesce({mine_end}, 'infinity'::date) "
        f"and {mine_start} < coalesce({other_end}, 'infinity'::date))",
        why=f"DfE SSDA903 validator: a child's {what} must not overlap; overlapping ones are counted twice. "
            "What to do: correct the return's dates before submitting it to the DfE.")


def _not_before_birth(column: str, what: str) -> Check:
    column = column.lower()  # raw column names (extract.feeds.Column)
    return sql_check(
        "warning", f"{column} not before the child's date of birth",
        f"select _row_number from {{batch}} where {_dmy(_q(column))} < {_dmy(_q('dob'))}",
        why=f"DfE SSDA903 validator: a {what} cannot start before the child was born. "
            "What to do: correct the start date or the date of birth in the return.")


def returns_checks(feed: Feed) -> list[Check]:
    """The DfE validators' checks that matter for our measures, on a return's own tables, and
    a warning for each coded column whose codes depend on the collection year.

    Missing type (M or A) and start before end are already generated from the declaration
    (codes and ``start_end``); these are the checks across rows. Warnings: the DfE would
    query them with the council, and the rest of the return is still worth reading.
    """
    nightly = feed.id in {f.id for f in FEEDS}  # a nightly feed keeps the codes episodes were recorded with
    checks = [] if nightly else [_code_of_the_collection_year(column) for column in feed.columns
                                 if getattr(column.codes, "years", None)]
    if feed.id == "ssda903__missing":
        checks += [_no_overlaps(feed, "MIS_START", "MIS_END", "missing episodes"),
                   _not_before_birth("MIS_START", "missing episode")]
    if feed.id == "ssda903__episodes":
        checks += [_no_overlaps(feed, "DECOM", "DEC", "episodes of care")]
    return checks


def _code_of_the_collection_year(column) -> Check:
    """A code the DfE's validator accepts in other collection years only (the code list's ``years``).

    A return's batch is dated 31 March of its collection year, so that date's year names it."""
    value, year = _q(column.name.lower()), "extract(year from _extract_date)"

    def outside_its_years(code: str, first: int | None, last: int | None) -> str:
        bounds = ([f"{year} < {first}"] if first else []) + ([f"{year} > {last}"] if last else [])
        return f"({value} = '{code}' and ({' or '.join(bounds)}))"

    outside = " or ".join(outside_its_years(code, *years) for code, years in column.codes.years.items())
    return sql_check(
        "warning", f"{column.label}: codes of the collection year",
        f"select _row_number from {{batch}} where {outside}",
        why=f"{column.codes.source} A code outside the return's collection year loads, but that year's "
            "list does not have it. What to do: record the code the year's DfE guidance gives in the case "
            "recording system and make the return again.")


def _codes_why(column) -> str:
    """Where a coded column's codes come from: its code list's source (extract/code_lists.py)."""
    source = getattr(column.codes, "source", "")
    standard = f" ({column.standard})" if column.standard else ""
    if not source:  # the council's service areas: reference data (extract/reference_data.py)
        return f"Codes declared in extract/feeds.py{standard}."
    return f"Codes declared in extract/code_lists.py{standard}: {source}"


def raw_suite(feed: Feed, other_feeds: Iterable[Feed] = FEEDS) -> Suite:
    """The suite for one feed's nightly batch, generated from its declaration.

    ``other_feeds`` are the feeds present in the warehouse: cross-feed checks are
    generated only against those (a feed not yet onboarded has no table to compare).
    """
    present = {f.id for f in other_feeds}
    checks: list[Check] = [
        critical("ExpectTableRowCountToEqual", value={"$PARAMETER": manifest_rows_parameter(feed)},
                 why="The night's batch in raw holds exactly the rows raw.load_manifest recorded as loaded."),
    ]
    if feed.snapshot:
        # Only a snapshot feed's night is comparable with its recent nights. An incremental feed's
        # night holds what changed since the last delivery (a full load the first time, a handful of
        # rows on a bank holiday): compared with the average it would warn on every healthy night.
        checks.append(warning(
            "ExpectTableRowCountToBeBetween", min_value={"$PARAMETER": recent_floor_parameter(feed)},
            why=f"Fewer than {RECENT_NIGHTS_FLOOR:.0%} of the average of the last {RECENT_NIGHTS} loaded "
                "nights usually means a partial export from the source system. What to do: compare the file "
                "with the source system's own count for the night; if rows are missing, ask the sender for a "
                "full file and re-run the night."))
    if len(feed.key) == 1:
        checks.append(critical("ExpectColumnValuesToBeUnique", column=feed.key[0],
                               why="The feed's key identifies a row within one extract."))
    else:
        checks.append(critical("ExpectCompoundColumnsToBeUnique", column_list=list(feed.key),
                               why="The feed's key identifies a row within one extract."))
    for column in feed.columns:
        name = column.name
        if column.required or name in feed.key:
            checks.append(critical("ExpectColumnValuesToNotBeNull", column=name))
        if column.type in (CODE, FLAG):
            checks.append(critical("ExpectColumnValuesToBeInSet", column=name, value_set=list(column.codes),
                                   why=_codes_why(column)))
        elif column.type == DATE:
            checks.append(critical("ExpectColumnValuesToMatchRegex", column=name, regex=SOURCE_DATE_REGEX,
                                   why="Staging casts it as a date: another format fails the build or swaps day and month."))
        elif column.type == DATE_DMY:
            checks.append(critical("ExpectColumnValuesToMatchRegex", column=name, regex=SOURCE_DMY_DATE_REGEX,
                                   why="Written dd/mm/yyyy, as the DfE return writes it; another format swaps day and month."))
        elif column.type == DATETIME:
            checks.append(critical("ExpectColumnValuesToMatchRegex", column=name, regex=SOURCE_TIMESTAMP_REGEX,
                                   why="Staging casts it as a London local date-time (YYYY-MM-DD HH:MM)."))
        elif column.type == NUMBER:
            checks.append(critical("ExpectColumnValuesToMatchRegex", column=name, regex=SOURCE_NUMBER_REGEX))
    date_range = _date_range_check(feed)
    if date_range:
        checks.append(date_range)
    if feed.start_end:
        start, end = feed.start_end
        # Both sides as ISO text, so text order is time order.
        checks.append(sql_check(
            "critical", f"{start} not after {end}",
            f"select _row_number from {{batch}} where {_iso_text(feed.column(end), end)} "
            f"< {_iso_text(feed.column(start), start)}",
            why="An episode cannot end before it starts (DfE 903 validator); the loader quarantines such rows."))
    for source, column, target, target_column, why in CROSS_FEED_REFERENCES:
        if source.id == feed.id and target.id in present:
            checks.append(sql_check(
                "warning", f"{column} refers to a {target.id} row of the same night",
                # GX names the night's rows "subselect" (its alias for a query asset's batch).
                f"select subselect._row_number from {{batch}} where subselect.{_q(column)} is not null "
                f"and not exists (select 1 from {target.raw_table} t where t._extract_date = subselect._extract_date "
                f"and t.{_q(target_column)} = subselect.{_q(column)})",
                why=(why + " " if why else "") + f"What to do: check that the {target.id} file of the same night "
                    f"is complete; a reference to a record it does not hold is a record to add or correct at source."))
    checks += returns_checks(feed)
    schema, table = feed.raw_table.split(".")
    return Suite(name=feed.raw_table, group="raw", schema=schema, table=table, night_column="_extract_date",
                 description=feed.description, checks=tuple(checks))


def raw_suites(feeds: Iterable[Feed] = FEEDS) -> tuple[Suite, ...]:
    feeds = tuple(feeds)
    return tuple(raw_suite(f, feeds) for f in feeds)


def raw_parameters(feeds: Iterable[Feed], manifest_rows: dict[str, int],
                   recent_averages: dict[str, float]) -> dict[str, Any]:
    """Row-count parameters for the raw suites: from the load manifest, for one night."""
    params: dict[str, Any] = {}
    for feed in feeds:
        params[manifest_rows_parameter(feed)] = int(manifest_rows.get(feed.id, 0))
        average = recent_averages.get(feed.id)
        params[recent_floor_parameter(feed)] = int(average * RECENT_NIGHTS_FLOOR) if average else 0
    return params


# --- marts: checked in the build schema, before publication --------------------------------------

def _first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _rhi_checks(extract_date: datetime.date, columns: dict[str, str]) -> tuple[Check, ...]:
    # Every row of the night's missing episodes, police notifications, RHI forms and provider
    # returns is accounted for by the conservation checks (expectations/conservation.py).
    return (
        critical("ExpectColumnValuesToNotBeNull", column="episode_key"),
        critical("ExpectColumnValuesToBeUnique", column="episode_key", why="One row per missing episode."),
        critical("ExpectColumnValuesToNotBeNull", column="person_key"),
        critical("ExpectColumnValuesToBeInSet", column="episode_status", value_set=["open", "returned"]),
        warning("ExpectColumnValuesToBeBetween", column="hours_to_interview", min_value=0, max_value=8760,
                why="More than a year after the return is almost certainly a recording error. What to do: find the "
                    "episode by its key in the council's case recording system and correct the interview date."),
        # NULL outcome and conducted_by are expected: episodes with no RHI form have neither.
        critical("ExpectColumnValuesToBeInSet", column="outcome", value_set=list(RHI_OUTCOMES)),
        critical("ExpectColumnValuesToBeInSet", column="conducted_by", value_set=list(RHI_CONDUCTED_BY)),
    )


def _exclusion_checks(extract_date: datetime.date, columns: dict[str, str]) -> tuple[Check, ...]:
    return (
        critical("ExpectColumnValuesToNotBeNull", column="reason_code",
                 why="Every record a person-level mart leaves out has its reason."),
        critical("ExpectColumnValuesToNotBeNull", column="reason"),
    )


# Hand-written checks per mart, added to the generic ones. A function of the extract date
# (reconciliation compares with that night's batch in raw) and of the mart's columns.
HAND_WRITTEN_MART_CHECKS = {
    "mart_return_home_interviews": _rhi_checks,
    "mart_data_quality_exclusions": _exclusion_checks,
}
# Marts that may rightly be empty on a healthy night: a night with no excluded record.
MAY_BE_EMPTY = frozenset({"mart_data_quality_exclusions"})
# Dimensions, not records of events: their dates are the calendar itself, the rest of the year
# included (a BI filter picks months to come), so "not after the extract" does not apply.
DIMENSIONS = frozenset({"mart_calendar"})
# Durations: hours and days counted between two events of one record. A published mart holds
# none below zero (docs/marts.md): a time recorded before its start gives no duration, and a
# flag says why (e.g. offer_before_return).
DURATION_SUFFIXES = ("_days", "_days_late")
DURATION_PREFIXES = ("hours_to_", "days_", "working_days_to_")


def _is_future_sensitive(column: str, data_type: str) -> bool:
    return (column.endswith(("_month", "_date", "_at")) and data_type in DATE_TYPES
            and not any(word in column for word in FUTURE_DATE_WORDS))


def _denominator(rate: str, columns: dict[str, str]) -> str | None:
    stem = rate[: -len("_rate")]
    for candidate in (RATE_DENOMINATORS.get(rate), f"{stem}_denominator_count", "denominator_count"):
        if candidate and candidate in columns:
            return candidate
    return None


def conservation_checks(table: str, extract_date: datetime.date, schema: str) -> list:
    """The critical checks for one mart's suite: one per feed it is built from."""
    return [sql_check(
        "critical", f"every {c.feed.id} row is in the mart or excluded with its reason (rows in = rows out + exclusions)",
        f"select rows_in, rows_out, excluded from ({counts_sql(c, extract_date, schema, '{batch}')}) counts "
        "where rows_in <> rows_out + excluded",
        why=f"Conservation: each of the night's {c.feed.id} rows is in exactly one {table} row (or count), or in "
            f"{EXCLUSIONS_TABLE} with its reason. A difference means rows lost or doubled by a join: what to do is "
            "in docs/marts.md, \"Every row accounted for\".")
        for c in CONSERVED if c.mart == table]


def mart_suite(table: str, columns: dict[str, str], extract_date: datetime.date,
               schema: str = "marts_build") -> Suite:
    """The suite for one mart, from its columns ({name: PostgreSQL data type}) and the conventions.
    ``schema``: where the build is (the conservation checks read the exclusions mart there)."""
    key_columns = [c for c in columns if c.endswith("_key")]
    # What a SQL check returns for the dq sample: the row's pseudonymous key, if it has one.
    sample_key = _q(key_columns[0]) if key_columns else None
    # An empty mart is critical when the night delivered every feed (a build or source problem,
    # not a quiet month). A council that sends only its statutory returns has no batch of some
    # feeds (docs/marts.md, "What a returns-only council gets"): a mart built on those alone is
    # empty by nature and its measures say "not measurable", so that is a warning. (A NULL rate
    # of a not-measurable measure passes the generic checks: GX and the SQL checks skip nulls.)
    every_feed_delivered = (f"(select count(distinct feed) from raw.load_manifest where status = 'loaded' "
                            f"and extract_date = '{extract_date.isoformat()}' "
                            f"and feed in ({', '.join(repr(f.id) for f in FEEDS)})) = {len(FEEDS)}")
    empty = "select 'the mart has no rows' as problem where not exists (select 1 from {batch})"
    checks: list[Check] = [] if table in MAY_BE_EMPTY else [
        sql_check("critical", "not empty when every feed was delivered", f"{empty} and {every_feed_delivered}",
                  why="An empty mart means a build or a source problem, not a quiet month."),
        sql_check("warning", "not empty (some feeds not delivered)", f"{empty} and not {every_feed_delivered}",
                  why="Feeds were missing for the night (e.g. a returns-only council): the mart may be empty by "
                      "nature; its measures show as not measurable. What to do: nothing if the council sends only "
                      "its statutory returns; otherwise find which feed was not delivered (raw.load_manifest) and "
                      "ask its sender for the night's file."),
    ]
    for column, data_type in columns.items():
        if column.endswith("_rate"):
            low, high = RATE_BOUNDS.get(column, (0, 1))
            checks.append(critical("ExpectColumnValuesToBeBetween", column=column, min_value=low, max_value=high,
                                   why="Rates are fractions from 0 to 1 (shared mart convention)."
                                   if (low, high) == (0, 1) else "See RATE_BOUNDS in expectations/suites.py."))
        elif column.endswith("_key") and data_type in ("text", "character varying", "character"):
            why = "Keys are HMAC-SHA256 in hex. Anything else may be a raw identifier leaking into a mart."
            checks.append(critical("ExpectColumnValuesToMatchRegex", column=column, regex=PSEUDONYMOUS_KEY_REGEX,
                                   why=why))
            checks.append(critical("ExpectColumnValueLengthsToEqual", column=column, value=PSEUDONYMOUS_KEY_LENGTH,
                                   why=why))
        elif _is_future_sensitive(column, data_type) and table not in DIMENSIONS:
            # The first of next month for months (a month is dated by its first day); the day
            # after the extract for dates and times (an extract taken just after midnight).
            limit = (_first_of_next_month(extract_date) if column.endswith("_month")
                     else extract_date + datetime.timedelta(days=1))
            checks.append(sql_check(
                "warning", f"{column} not after {limit.isoformat()}",
                f"select {sample_key or _q(column)} from {{batch}} "
                f"where {_q(column)}::date > date '{limit.isoformat()}'",
                why="Nothing reported can have happened after the extract; a future date is a recording error. "
                    "What to do: find the row by its key and correct the date in the source system; if the column "
                    "is about the future by nature, name it so (expectations/suites.py, FUTURE_DATE_WORDS)."))
        elif (column.startswith(DURATION_PREFIXES) or column.endswith(DURATION_SUFFIXES)) \
                and data_type in ("integer", "bigint", "numeric", "smallint", "double precision"):
            checks.append(critical(
                "ExpectColumnValuesToBeBetween", column=column, min_value=0,
                why="No negative durations in a published mart (docs/marts.md): a time recorded before its "
                    "start gives no duration, and a flag explains it."))
    if "numerator" in columns and "denominator" in columns:
        # Numerators are a subset of their denominators, except measures that are ratios, not
        # shares (MEASURES_NOT_SHARES), where the mart says which measure a row is.
        exempt = (f" and measure_id not in ({', '.join(repr(m) for m in sorted(MEASURES_NOT_SHARES))})"
                  if "measure_id" in columns else "")
        checks.append(sql_check(
            "critical", "numerator not above denominator",
            f"select {'measure_id, ' if 'measure_id' in columns else ''}numerator, denominator from {{batch}} "
            f"where numerator > denominator{exempt}",
            why="A measure's numerator counts a subset of its denominator."))
    for rate in [c for c in columns if c.endswith("_rate")]:
        numerator = rate[: -len("_rate")] + "_count"
        denominator = _denominator(rate, columns)
        if numerator not in columns or not denominator:
            continue
        checks.append(critical(
            "ExpectColumnPairValuesAToBeGreaterThanB", column_A=denominator, column_B=numerator,
            or_equal=True, ignore_row_if="either_value_is_missing",
            why=f"{numerator} is the numerator of {rate}: it cannot exceed {denominator}."))
        checks.append(critical(
            "UnexpectedRowsExpectation", "", unexpected_rows_query=(
                f"select {_q(numerator)}, {_q(denominator)}, {_q(rate)} from {{batch}} "
                f"where {_q(denominator)} > 0 and {_q(rate)} is not null and "
                f"abs({_q(rate)} - {_q(numerator)}::numeric / {_q(denominator)}) > {RATE_TOLERANCE}"),
            description=f"{rate} = {numerator} / {denominator}"))
    checks.extend(conservation_checks(table, extract_date, schema))
    hand_written = HAND_WRITTEN_MART_CHECKS.get(table)
    if hand_written:
        checks.extend(c for c in hand_written(extract_date, columns)
                      if all(col in columns for col in _columns_of(c)))
    return Suite(name=f"marts.{table}", group="marts", table=table, checks=tuple(checks),
                 description=f"Mart {table}, checked in the build schema before publication.")


def _columns_of(check: Check) -> list[str]:
    return [v for k, v in check.kwargs.items() if k in ("column", "column_A", "column_B")] + list(
        check.kwargs.get("column_list", []))


def mart_suites(tables: dict[str, dict[str, str]], extract_date: datetime.date,
                schema: str = "marts_build") -> tuple[Suite, ...]:
    """One suite per table found in the build schema ({table: {column: data type}})."""
    return tuple(mart_suite(t, cols, extract_date, schema) for t, cols in sorted(tables.items())
                 if t not in NOT_MARTS)


def check_label(expectation_type: str, kwargs: dict[str, Any], description: str | None = None) -> str:
    """How a check is named in the dq tables, the report, logs and alerts."""
    description = description or kwargs.get("description")
    if description and expectation_type in ("unexpected_rows_expectation", "UnexpectedRowsExpectation"):
        return str(description)
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += list(kwargs.get("column_list") or [])
    return f"{expectation_type}({', '.join(columns)})" if columns else expectation_type


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
