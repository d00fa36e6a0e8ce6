"""The suites generated from the feed declarations and the marts' columns, and the report's pieces.

Fast: no database, no Great Expectations import. What the generated checks find in
real data is tested in test_quality_gates.py and test_quality_report_browser.py.
"""

from __future__ import annotations

import datetime

import pytest

from expectations import suites
from extract.feeds import CRS_MISSING_EPISODES, CRS_PEOPLE, CRS_RETURN_HOME_INTERVIEWS, FEEDS, HR_POSTS
from expectations.quality_report import reason_without_values, trend_chart_svg

NIGHT = datetime.date(2026, 11, 22)


def checks_of(suite, expectation):
    return [c for c in suite.checks if c.expectation == expectation]


def test_every_feed_has_a_raw_suite_for_its_night():
    generated = suites.raw_suites(FEEDS)
    assert [s.name for s in generated] == [f.raw_table for f in FEEDS]
    assert all(s.night_column == "_extract_date" and s.group == "raw" for s in generated)


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.id)
def test_raw_suite_follows_the_declaration(feed):
    suite = suites.raw_suite(feed)
    not_null = {c.column for c in checks_of(suite, "ExpectColumnValuesToNotBeNull")}
    assert not_null == {c.name for c in feed.columns if c.required} | set(feed.key)
    in_set = {c.column: c.kwargs["value_set"] for c in checks_of(suite, "ExpectColumnValuesToBeInSet")}
    assert in_set == {c.name: list(c.codes) for c in feed.columns if c.codes}
    assert all(c.severity == "critical" for c in checks_of(suite, "ExpectColumnValuesToBeInSet"))
    # Row counts: equal to the manifest (critical) and, for a snapshot feed, not far below recent
    # nights (warning). An incremental feed's night holds only what changed: its size is no sign of
    # a partial export, and comparing it with a first full load warned on every healthy night.
    [manifest] = checks_of(suite, "ExpectTableRowCountToEqual")
    assert manifest.severity == "critical"
    assert manifest.kwargs["value"] == {"$PARAMETER": suites.manifest_rows_parameter(feed)}
    recent = checks_of(suite, "ExpectTableRowCountToBeBetween")
    assert [c.severity for c in recent] == (["warning"] if feed.snapshot else [])
    sql_checks = [c.kwargs["description"] for c in checks_of(suite, "UnexpectedRowsExpectation")]
    if feed.start_end:
        assert f"{feed.start_end[0]} not after {feed.start_end[1]}" in sql_checks


def test_compound_keys_are_checked_together():
    [check] = checks_of(suites.raw_suite(HR_POSTS), "ExpectCompoundColumnsToBeUnique")
    assert check.kwargs["column_list"] == ["snapshot_date", "post_id"]
    assert not checks_of(suites.raw_suite(HR_POSTS), "ExpectColumnValuesToBeUnique")


def test_cross_feed_checks_only_against_feeds_present():
    with_people = suites.raw_suite(CRS_MISSING_EPISODES, [CRS_MISSING_EPISODES, CRS_PEOPLE])
    without = suites.raw_suite(CRS_MISSING_EPISODES, [CRS_MISSING_EPISODES])
    described = lambda s: [c.kwargs["description"] for c in checks_of(s, "UnexpectedRowsExpectation")]  # noqa: E731
    assert "person_id refers to a crs__people row of the same night" in described(with_people)
    assert not any("crs__people" in d for d in described(without))
    rhi = suites.raw_suite(CRS_RETURN_HOME_INTERVIEWS, FEEDS)
    [reference] = [c for c in checks_of(rhi, "UnexpectedRowsExpectation") if "crs__missing_episodes" in
                   c.kwargs["description"]]
    assert reference.severity == "warning" and "{batch}" in reference.kwargs["unexpected_rows_query"]


def test_row_count_parameters_come_from_the_manifest():
    params = suites.raw_parameters([CRS_PEOPLE, CRS_MISSING_EPISODES], {"crs__people": 120},
                                   {"crs__people": 100.0})
    assert params[suites.manifest_rows_parameter(CRS_PEOPLE)] == 120
    assert params[suites.recent_floor_parameter(CRS_PEOPLE)] == 50
    # No history yet: nothing to compare with, so the floor is 0, not a failure.
    assert params[suites.recent_floor_parameter(CRS_MISSING_EPISODES)] == 0


MONTHLY = {"report_month": "date", "offer_measured_count": "integer", "offered_within_72h_count": "integer",
           "offered_within_72h_rate": "numeric", "vacancy_rate": "numeric", "is_census_month": "boolean",
           "person_key": "text", "statutory_due_date": "date", "returned_at": "timestamp with time zone"}


def test_a_calendar_dimension_may_hold_the_rest_of_the_year():
    """mart_calendar's dates are the calendar, not events: a healthy night must not warn that they
    are after the extract (it did, on every night, when the calendar mart was added)."""
    calendar = {"calendar_date": "date", "calendar_month": "date"}
    described = lambda s: [c.kwargs["description"] for c in checks_of(s, "UnexpectedRowsExpectation")]  # noqa: E731
    assert not any("not after" in d for d in described(suites.mart_suite("mart_calendar", calendar, NIGHT)))
    assert "calendar_date not after 2026-11-23" in described(suites.mart_suite("mart_example", calendar, NIGHT))


def test_mart_suite_follows_the_conventions():
    suite = suites.mart_suite("mart_example", MONTHLY, NIGHT)
    between = {c.column: (c.kwargs["min_value"], c.kwargs["max_value"])
               for c in checks_of(suite, "ExpectColumnValuesToBeBetween")}
    assert between == {"offered_within_72h_rate": (0, 1), "vacancy_rate": (None, 1)}
    [key] = checks_of(suite, "ExpectColumnValuesToMatchRegex")
    assert key.column == "person_key" and key.kwargs["regex"] == suites.PSEUDONYMOUS_KEY_REGEX
    [length] = checks_of(suite, "ExpectColumnValueLengthsToEqual")
    assert (length.column, length.kwargs["value"]) == ("person_key", 64)
    [pair] = checks_of(suite, "ExpectColumnPairValuesAToBeGreaterThanB")
    assert (pair.kwargs["column_A"], pair.kwargs["column_B"]) == ("offer_measured_count",
                                                                  "offered_within_72h_count")
    described = {c.kwargs["description"]: c for c in checks_of(suite, "UnexpectedRowsExpectation")}
    # Months may reach the first of next month; dates and times the day after the extract.
    assert described["report_month not after 2026-12-01"].severity == "warning"
    assert "returned_at not after 2026-11-23" in described
    # A boolean named *_month is not a date; a due date is about the future by nature.
    assert not any("is_census_month" in d or "statutory_due_date" in d for d in described)
    assert described["offered_within_72h_rate = offered_within_72h_count / offer_measured_count"].severity == \
        "critical"
    assert all(c.severity == "critical" for c in checks_of(suite, "ExpectTableRowCountToBeBetween"))


def test_numerator_and_denominator_columns():
    suite = suites.mart_suite("mart_partnership_scorecard", {"measure_id": "text", "numerator": "numeric",
                                                             "denominator": "numeric"}, NIGHT)
    [check] = [c for c in checks_of(suite, "UnexpectedRowsExpectation")
               if c.kwargs["description"] == "numerator not above denominator"]
    assert check.severity == "critical"
    assert "where numerator > denominator and measure_id not in ('WF03')" in check.kwargs["unexpected_rows_query"]


def test_marts_not_built_yet_get_no_suite_and_the_publication_record_is_not_a_mart():
    generated = suites.mart_suites({"mart_a": {"a_count": "bigint"}, "publication": {"status": "text"}}, NIGHT)
    assert [s.name for s in generated] == ["marts.mart_a"]


def test_conservation_accounts_for_every_row_of_each_feed_of_a_person_level_mart():
    suite = suites.mart_suite("mart_return_home_interviews",
                              {"episode_key": "text", "person_key": "text", "recorded_by_council": "boolean"},
                              NIGHT, "marts_build")
    conserved = {c.kwargs["description"]: c for c in checks_of(suite, "UnexpectedRowsExpectation")
                 if "rows in = rows out + exclusions" in c.kwargs["description"]}
    assert len(conserved) == 4  # missing episodes, police notifications, RHI forms, provider returns
    check = conserved["every crs__missing_episodes row is in the mart or excluded with its reason "
                      "(rows in = rows out + exclusions)"]
    query = check.kwargs["unexpected_rows_query"]
    assert check.severity == "critical"
    assert "filter (where recorded_by_council)" in query and f"_extract_date = '{NIGHT}'" in query
    assert "marts_build.mart_data_quality_exclusions where mart = 'mart_return_home_interviews' " \
           "and feed = 'crs__missing_episodes'" in query
    # An incremental feed's rows in are its distinct keys delivered up to the night.
    [contacts] = [c for c in checks_of(suites.mart_suite("mart_front_door_contacts", {"contact_key": "text"}, NIGHT),
                                       "UnexpectedRowsExpectation") if "rows in" in c.kwargs["description"]]
    assert f"count(distinct (trim(\"contact_id\"))) from raw.crs__contacts where _extract_date <= '{NIGHT}'" in \
        contacts.kwargs["unexpected_rows_query"]
    # Checks on columns the mart does not have are left out, not failed.
    assert not [c for c in suite.checks if c.column == "episode_status"]
    # The exclusions mart may be empty on a healthy night.
    exclusions = suites.mart_suite("mart_data_quality_exclusions", {"reason_code": "text", "reason": "text"}, NIGHT)
    assert not [c for c in exclusions.checks if "empty" in c.kwargs.get("description", "")]


def test_durations_are_never_negative():
    suite = suites.mart_suite("mart_x", {"hours_to_offer": "numeric", "statutory_days_late": "integer",
                                         "working_days_to_icpc": "integer", "is_open_days": "boolean"}, NIGHT)
    bounded = {c.column: (c.kwargs["min_value"], c.severity) for c in checks_of(suite, "ExpectColumnValuesToBeBetween")}
    assert bounded == {"hours_to_offer": (0, "critical"), "statutory_days_late": (0, "critical"),
                       "working_days_to_icpc": (0, "critical")}


def test_every_warning_says_what_to_do():
    """A warning that fires must tell the reader what to do about it (issue 15, item 9)."""
    marts = [suites.mart_suite(name, {"report_month": "date", "hours_to_interview": "numeric", "person_key": "text",
                                      "episode_key": "text", "outcome": "text", "conducted_by": "text",
                                      "episode_status": "text"}, NIGHT)
             for name in ("mart_return_home_interviews", "mart_example")]
    warnings = [c for s in [*suites.raw_suites(FEEDS), *marts] for c in s.checks if c.severity == "warning"]
    assert warnings
    assert [c for c in warnings if "What to do:" not in c.why] == []


def test_check_labels():
    assert suites.check_label("expect_column_values_to_be_in_set", {"column": "gender"}) == \
        "expect_column_values_to_be_in_set(gender)"
    assert suites.check_label("unexpected_rows_expectation", {}, "dates in range (x)") == "dates in range (x)"


@pytest.mark.parametrize("reason, shown", [
    ("date_of_birth: not a date: '2012-13-01'", "date_of_birth: not a date: …"),
    ("duplicate key (cp_plan_id=CPP0042): first delivered on line 7",
     "duplicate key (cp_plan_id=…): first delivered on line …"),
    ("end before start: end_date 2025-01-01 before start_date 2025-02-01",
     "end before start: end_date … before start_date …"),
    ("team is required but empty", "team is required but empty"),
])
def test_quarantine_reasons_are_shown_without_values(reason, shown):
    assert reason_without_values(reason) == shown


def test_trend_chart_is_an_inline_svg():
    trend = [{"extract_date": NIGHT - datetime.timedelta(days=i), "status": status, "status_label": status,
              "critical_failures": crit, "warnings": warn, "quarantined": q}
             for i, (status, crit, warn, q) in enumerate([("published", 0, 0, 0), ("held_back", 3, 1, 12),
                                                           ("published_with_warnings", 0, 2, 4)])]
    svg = trend_chart_svg(trend)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bar-critical"') == 3 and svg.count('class="status"') == 3
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert trend_chart_svg([]).startswith("<svg")  # no nights yet: an empty chart, not an error
