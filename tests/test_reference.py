"""The published marts against a second, independent computation of every figure (issue 15).

tests/reference/ computes every measure of mart_partnership_scorecard (numerator, denominator,
value, RAG, suppression, per month) and the person-level marts mart_return_home_interviews and
mart_pathway_plans with pandas, straight from the delivered files, written from docs/rules.md and
docs/marts.md without reading the dbt project. Each source is built and published by the nightly
steps once (tests/nights.py): a generated `tiny` night, a generated `borough` night, and the
public fake SSDA903 return through the returns pipeline. Any difference fails and prints the
first differing rows side by side.

The scorecard is compared twice: as published (counts of 1 to 5 suppressed), and before
suppression (the scorecard model compiled with suppression_threshold 0 and run over the same
published marts), so that months a small borough suppresses are compared too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from conftest import TEST_KEY
from helpers import dbt_var
from reference import compare, inputs, missing, pathway, scorecard

pytestmark = pytest.mark.slow

NIGHT = date(2026, 11, 22)
FAKE_903 = Path(__file__).parent / "data" / "returns" / "ssda903_fake"
# Every measure the scorecard declares (var scorecard_measures): a measure added there is compared
# here too, so it needs its reference computation (docs/marts.md, "Adding a measure").
MEASURES = tuple(m["id"] for m in dbt_var("scorecard_measures"))

# Person-level columns compared, grouped by the rule that sets them.
RHI_KEYS = ["person_key", "missing_start_at"]
RHI_COLUMNS = {
    "episode": ["missing_type", "team", "is_looked_after", "recorded_by_council", "notified_by_police",
                "police_notification_count", "police_risk_level", "overlaps_another_episode", "starts_before_birth"],
    "return and denominator": ["returned_at", "return_month", "in_denominator"],
    "first offer": ["is_rhi_measurable", "rhi_recorded", "rhi_recorded_by_council", "rhi_returned_by_provider",
                    "offered_at", "interview_at", "conducted_by", "outcome", "offer_before_return"],
    "72 hours": ["hours_to_offer", "hours_to_interview", "offer_status", "interview_status", "offered_within_72h",
                 "interviewed_within_72h"],
}
# The offer flag is compared where the reference counts the episode (in_denominator): a pending or
# open episode's flag says nothing (the denominator and status columns compare those).
RHI_ONLY_COUNTED = {"offered_within_72h"}
PATHWAY_KEYS = ["person_key"]
PATHWAY_COLUMNS = {
    "category and due date": ["eligibility_category", "eligibility_date", "recorded_eligibility_category",
                              "recorded_eligibility_date", "category_check", "sixteenth_birthday_month",
                              "statutory_due_date", "statutory_due_month", "birth_month", "as_at_date"],
    "statutory timeliness": ["is_pathway_plan_timeliness_measurable", "first_plan_date", "statutory_status",
                             "statutory_on_time", "statutory_days_late"],
    "practice standard": ["practice_status", "practice_standard_met", "practice_days_late",
                          "first_needs_assessment_date"],
    "plan before care": ["plan_started_before_looked_after"],
    "reviews": ["last_review_date", "last_plan_or_review_date", "review_count", "review_overdue",
                "longest_review_interval_days", "late_review_count"],
    "adviser and OC3": ["has_personal_adviser", "in_touch_code", "is_in_touch", "activity_code",
                        "is_in_education_employment_training", "accommodation_code", "is_accommodation_suitable"],
}


class Case:
    """One published source and its reference computation."""

    def __init__(self, source: str, night, tmp_path_factory):
        self.source, self.night = source, night
        if source == "ssda903":
            self.inputs = inputs.from_ssda903(FAKE_903, night.extract_date)
        else:
            self.inputs = inputs.from_landing(night.landing_dir, night.extract_date)
        self.episodes = missing.episodes(self.inputs, TEST_KEY)
        self.young = pathway.young_people(self.inputs, TEST_KEY)
        self.reference = scorecard.scorecard(self.inputs, TEST_KEY, episodes=self.episodes, young=self.young)
        self.reference_unsuppressed = scorecard.scorecard(self.inputs, TEST_KEY, suppress=False,
                                                          episodes=self.episodes, young=self.young)
        self.published = night.query("select * from marts.mart_partnership_scorecard")
        self.published_unsuppressed = unsuppressed_scorecard(night, tmp_path_factory.mktemp(f"{source}-scorecard"))
        self.rhi = night.query("select * from marts.mart_return_home_interviews")
        self.pathway = night.query("select * from marts.mart_pathway_plans")


def unsuppressed_scorecard(night, target: Path) -> pd.DataFrame:
    """The published scorecard's model, compiled with suppression_threshold 0 (no count suppressed)
    and run over the night's published marts: the same figures before suppression."""
    from warehouse.dbt import run_dbt

    run_dbt(night.settings, ["compile", "--select", "mart_partnership_scorecard", "--vars",
                             '{"suppression_threshold": 0}', "--target-path", str(target),
                             "--log-path", str(target / "logs")], extract_date=night.extract_date.isoformat())
    [compiled] = target.glob("compiled/**/mart_partnership_scorecard.sql")
    return night.query(compiled.read_text().replace('"marts_build".', '"marts".'))


@pytest.fixture(scope="module", params=["tiny", "borough", "ssda903"])
def case(request, built_nights, tmp_path_factory) -> Case:
    if request.param == "ssda903":
        night = built_nights.returns(FAKE_903, 2018)
    else:
        night = built_nights.get(request.param, NIGHT)
    return Case(request.param, night, tmp_path_factory)


def compared_columns(columns: list[str], reference: pd.DataFrame, mart: pd.DataFrame) -> list[str]:
    """The columns the reference computes (some are computed for one source only); one the mart
    lacks is a difference on every row."""
    return [c for c in columns if c in reference]


def _measure(frame: pd.DataFrame, measure_id: str) -> pd.DataFrame:
    return frame[frame["measure_id"] == measure_id]


def test_the_comparison_has_figures_to_compare(case):
    """Guards the comparisons below against comparing nothing with nothing."""
    assert len(case.reference) > 0 and len(case.episodes) > 0 and len(case.young) > 0
    if case.source == "ssda903":
        # docs/marts.md: a 903-only council gets RHI01 and PP01 NOT_MEASURABLE, no other measure.
        assert set(case.reference["measure_id"]) == {"RHI01", "PP01"}
        assert set(case.reference["rag_status"]) == {"NOT_MEASURABLE"}
    else:
        counted = case.reference_unsuppressed[case.reference_unsuppressed["denominator"].map(lambda d: bool(d))]
        assert set(counted["measure_id"]) == set(MEASURES)
        assert case.reference["is_suppressed"].any()


@pytest.mark.parametrize("measure_id", MEASURES)
def test_scorecard_matches_the_reference(case, measure_id):
    published = compare.compare_scorecards(_measure(case.reference, measure_id), _measure(case.published, measure_id))
    unsuppressed = compare.compare_scorecards(_measure(case.reference_unsuppressed, measure_id),
                                              _measure(case.published_unsuppressed, measure_id))
    assert not published and not unsuppressed, (
        f"{case.source} {measure_id}, published scorecard:\n"
        f"{compare.side_by_side(published, compare.SCORECARD_KEYS)}\n"
        f"before suppression:\n{compare.side_by_side(unsuppressed, compare.SCORECARD_KEYS)}")


@pytest.mark.parametrize("group", RHI_COLUMNS)
def test_return_home_interviews_match_the_reference(case, group):
    columns = compared_columns(RHI_COLUMNS[group], case.episodes, case.rhi)

    def compared(row):
        return set(columns) - (RHI_ONLY_COUNTED if not row["in_denominator"] else set())

    differences = compare.compare_rows(case.episodes, case.rhi, RHI_KEYS, columns, only_when=compared)
    assert not differences, f"{case.source}, {group}:\n{compare.side_by_side(differences, RHI_KEYS)}"


@pytest.mark.parametrize("group", PATHWAY_COLUMNS)
def test_pathway_plans_match_the_reference(case, group):
    columns = compared_columns(PATHWAY_COLUMNS[group], case.young, case.pathway)
    differences = compare.compare_rows(case.young, case.pathway, PATHWAY_KEYS, columns)
    assert not differences, f"{case.source}, {group}:\n{compare.side_by_side(differences, PATHWAY_KEYS)}"
