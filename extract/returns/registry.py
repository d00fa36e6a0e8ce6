"""Every statutory return the importer knows, in order of precedence.

When two returns can fill the same nightly feed, the first listed that was loaded for
the year fills it alone (the CIN census and Annex A both list referrals, under different
ids: taking both would count each referral twice). People are the exception: every
return's children are taken, the first return's row winning for a child in several.
The DfE's child-level returns come before Ofsted's Annex A lists, which carry less.
"""

from __future__ import annotations

from ..feeds import Feed
from . import StatutoryReturn
from .annex_a import ANNEX_A
from .cin_census import CIN_CENSUS
from .ssda903 import SSDA903

RETURNS: tuple[StatutoryReturn, ...] = (SSDA903, CIN_CENSUS, ANNEX_A)
RETURN_FEEDS: tuple[Feed, ...] = tuple(f for r in RETURNS for f in r.feeds)
RETURNS_BY_NAME = {r.name: r for r in RETURNS}
