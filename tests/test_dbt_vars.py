"""The statutory timescales, stated once against their source (issue 19).

Every other test reads its limits from the dbt vars (tests/helpers.py, dbt_var), so a var changed by
mistake would move the marts and their tests together. This is the one place that pins each
statutory default to the statute or guidance that sets it (docs/rules.md, docs/marts.md).
"""

import pytest

from helpers import dbt_var

STATUTORY = {
    # DfE, children who run away or go missing from home or care (2014): return interview within 72 hours.
    "rhi_timescale_hours": 72,
    # Care Planning, Placement and Case Review (England) Regulations 2010, reg 42: plan due within 3 months.
    "pathway_plan_statutory_months": 3,
    # Reg 40 / Children Act 1989 Sch. 2 para 19B: an eligible child was looked after for 13 weeks since 14.
    "eligible_child_looked_after_weeks": 13,
    # Pathway plans reviewed at least every 6 months.
    "pathway_plan_review_months": 6,
    # Working Together to Safeguard Children: assessment within 45 working days, ICPC within 15.
    "assessment_working_days": 45,
    "icpc_working_days": 15,
    # CIN census: re-referral within 12 months; a long plan lasts 2 years or more.
    "re_referral_months": 12,
    "cp_plan_long_years": 2,
    # Front door: a contact decided within 24 hours.
    "contact_decision_hours": 24,
    # DfE statistics: counts 1 to 5 suppressed.
    "suppression_threshold": 5,
}


@pytest.mark.parametrize("name, value", sorted(STATUTORY.items()))
def test_the_default_is_the_statutory_value(name, value):
    assert dbt_var(name) == value


def test_every_feed_a_measure_needs_is_a_declared_feed():
    """var measure_feeds names feeds by id: a misspelt one would make its measure NOT MEASURABLE on
    every night, silently. Each must be a feed of extract/feeds.py."""
    from extract.feeds import FEEDS_BY_ID

    named = {feed for needs in dbt_var("measure_feeds").values() for feeds in needs.values() for feed in feeds}
    assert named and not named - set(FEEDS_BY_ID), sorted(named - set(FEEDS_BY_ID))
