"""The SSDA903 return (children looked after), as CSVs or as the 903 XML.

One feed per 903 table the marts use, with the DfE's column names (those of the
903 CSVs, as the DfE's validator reads them: lac_validator/config.py in
data-to-insight/csc-validator-be-903) and its dd/mm/yyyy dates. A folder holding
the CSVs (header.csv, episodes.csv, missing.csv, oc3.csv, reviews.csv, uasc.csv)
is loaded as it is; a 903 XML file is converted to those CSVs first
(extract/returns/ssda903_xml.py).

What the 903 cannot carry into the nightly feeds (docs/returns.md): no NHS
numbers or postcodes of home, no teams or workers, missing episodes as dates
without times, no return home interviews, no pathway plans, and care leavers only
as the OC3 table describes them (in touch, activity, accommodation).
"""

from __future__ import annotations

from pathlib import Path

from .. import feeds
from ..code_lists import (ACTIVITIES_SSDA903, CATEGORIES_OF_NEED, PLACEMENT_PROVIDERS, REASONS_PLACE_CHANGE,
                          REVIEW_PARTICIPATION, SEXES)
from ..feeds import DATE_DMY, Column, Feed
from . import Mapping, StatutoryReturn, csv_files_named, mapping_sql

SOURCE = "ssda903"
CHILD = Column("CHILD", "The council's child id (the same id in every 903 table)", standard="SSDA903 CHILD")
DOB = Column("DOB", "Date of birth", DATE_DMY, standard="SSDA903 DOB")


def _column(name: str, description: str, type: str = feeds.TEXT, *, required: bool = True,
            codes: tuple[str, ...] = ()) -> Column:
    return Column(name, description, type, required, codes, f"SSDA903 {name}")


HEADER = Feed(
    source=SOURCE, name="header", key=("CHILD",), file_name="header.csv",
    description="SSDA903 header: one row per child looked after in the year.",
    columns=(
        CHILD,
        _column("SEX", "1 male, 2 female (to 2023-24); M, F or U (from 2024-25)", feeds.CODE, codes=SEXES),
        DOB,
        _column("ETHNIC", "Ethnic group", feeds.CODE, codes=feeds.ETHNICITIES),
        _column("UPN", "Unique pupil number", required=False),
        _column("MOTHER", "1 if the child is a mother", required=False),
        _column("MC_DOB", "Date of birth of the child's first child", DATE_DMY, required=False),
    ),
)

EPISODES = Feed(
    source=SOURCE, name="episodes", key=("CHILD", "DECOM"), start_end=("DECOM", "DEC"), file_name="episodes.csv",
    description="SSDA903 episodes: one row per period of care with one legal status and one placement.",
    columns=(
        CHILD,
        _column("DECOM", "Date the episode started", DATE_DMY),
        _column("RNE", "Reason for new episode", feeds.CODE, codes=feeds.REASONS_NEW_EPISODE),
        _column("LS", "Legal status", feeds.CODE, codes=feeds.LEGAL_STATUSES),
        _column("CIN", "Category of need", feeds.CODE, codes=CATEGORIES_OF_NEED),
        _column("PLACE", "Placement type", feeds.CODE, codes=feeds.PLACEMENT_TYPES),
        _column("PLACE_PROVIDER", "Placement provider", feeds.CODE, required=False, codes=PLACEMENT_PROVIDERS),
        _column("DEC", "Date the episode ceased; empty while open", DATE_DMY, required=False),
        _column("REC", "Reason the episode ceased", feeds.CODE, required=False, codes=feeds.REASONS_EPISODE_CEASED),
        _column("REASON_PLACE_CHANGE", "Reason for a change of placement", feeds.CODE, required=False,
                codes=REASONS_PLACE_CHANGE),
        _column("HOME_POST", "Postcode of the child's home (raw zone only)", required=False),
        _column("PL_POST", "Postcode of the placement (raw zone only)", required=False),
        _column("URN", "Ofsted unique reference number of the placement", required=False),
    ),
)

MISSING = Feed(
    source=SOURCE, name="missing", key=("CHILD", "MIS_START"), start_end=("MIS_START", "MIS_END"),
    file_name="missing.csv",
    description="SSDA903 missing: one row per episode a looked-after child was missing or away without "
                "authorisation (dates only).",
    columns=(
        CHILD,
        DOB,
        _column("MISSING", "M missing, A away from placement without authorisation", feeds.CODE, codes=feeds.MISSING_TYPES),
        _column("MIS_START", "Date the episode started", DATE_DMY),
        _column("MIS_END", "Date the child returned; empty while missing", DATE_DMY, required=False),
    ),
)

OC3 = Feed(
    source=SOURCE, name="oc3", key=("CHILD",), file_name="oc3.csv",
    description="SSDA903 OC3: one row per care leaver with a 17th to 21st birthday in the year.",
    columns=(
        CHILD,
        DOB,
        _column("IN_TOUCH", "Whether the council is in touch around the birthday", feeds.CODE, codes=feeds.IN_TOUCH),
        _column("ACTIV", "Main activity", feeds.CODE, codes=ACTIVITIES_SSDA903),
        _column("ACCOM", "Accommodation and its suitability", feeds.CODE, codes=feeds.ACCOMMODATION),
    ),
)

REVIEWS = Feed(
    source=SOURCE, name="reviews", key=("CHILD", "REVIEW"), file_name="reviews.csv",
    description="SSDA903 reviews: one row per looked-after review.",
    columns=(
        CHILD,
        DOB,
        _column("REVIEW", "Date of the review", DATE_DMY),
        _column("REVIEW_CODE", "How the child took part", feeds.CODE, required=False, codes=REVIEW_PARTICIPATION),
    ),
)

UASC = Feed(
    source=SOURCE, name="uasc", key=("CHILD",), file_name="uasc.csv",
    description="SSDA903 UASC: one row per child who was an unaccompanied asylum-seeking child.",
    columns=(
        CHILD,
        _column("SEX", "1 male, 2 female (to 2023-24); M, F or U (from 2024-25)", feeds.CODE, codes=SEXES),
        DOB,
        _column("DUC", "Date the child ceases (or ceased) to be a UASC: their 18th birthday", DATE_DMY, required=False),
    ),
)

FEEDS: tuple[Feed, ...] = (HEADER, EPISODES, MISSING, OC3, REVIEWS, UASC)


# The selects are the SQL files in mappings/ssda903/.
MAPPINGS: tuple[Mapping, ...] = (
    Mapping(
        target=feeds.CRS_PEOPLE, reads=(HEADER, UASC),
        note="No NHS number, expected date of birth or postcode; UASC from the UASC table.",
        select=mapping_sql(SOURCE, feeds.CRS_PEOPLE),
    ),
    Mapping(
        target=feeds.CRS_LOOKED_AFTER_EPISODES, reads=(EPISODES,),
        note="One looked-after episode per 903 episode, identified by child and start date.",
        select=mapping_sql(SOURCE, feeds.CRS_LOOKED_AFTER_EPISODES),
    ),
    Mapping(
        target=feeds.CRS_MISSING_EPISODES, reads=(MISSING,),
        note="Dates only: the 903 records no times, so start and return are read as midnight; "
             "no team. Every 903 missing episode is of a looked-after child.",
        select=mapping_sql(SOURCE, feeds.CRS_MISSING_EPISODES),
    ),
    Mapping(
        target=feeds.CRS_CARE_LEAVERS, reads=(OC3,),
        note="OC3 describes care leavers around their 17th to 21st birthdays: under 18 at 31 March is "
             "relevant, 18 or over former relevant; no eligibility date, personal adviser or pathway plans.",
        select=mapping_sql(SOURCE, feeds.CRS_CARE_LEAVERS),
    ),
)


def collect(folder: Path, landing: Path) -> dict[str, Path]:
    """The 903 CSVs in the folder; else a 903 XML file there, converted to those CSVs in ``landing``."""
    found = csv_files_named(folder, FEEDS)
    if found:
        return found
    try:
        from .ssda903_xml import convert, is_ssda903_xml
    except ImportError:  # the XML converter is optional at import time
        return {}
    for path in sorted(Path(folder).glob("*.xml")) + sorted(Path(folder).glob("*.XML")):
        if is_ssda903_xml(path):
            landing.mkdir(parents=True, exist_ok=True)
            written = convert(path, landing)
            by_name = {Path(p).name.lower(): Path(p) for p in written.values()}
            return {f.id: by_name[f.file_name] for f in FEEDS if f.file_name in by_name}
    return {}


SSDA903 = StatutoryReturn(
    name=SOURCE,
    title="SSDA903 (children looked after)",
    description="The DfE's annual return on looked-after children, as CSVs or XML.",
    feeds=FEEDS,
    mappings=MAPPINGS,
    collect=collect,
)
