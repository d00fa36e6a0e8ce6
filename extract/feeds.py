"""One declaration per feed: the file it arrives in, its columns, its key and its codes.

The loader, the generator, the raw-zone expectations and docs/feeds.md all read
these declarations; nothing else describes a feed's shape. Onboarding a feed is
adding a ``Feed`` here (and its staging model in dbt).

Field names follow SSDA903 and the Standard Safeguarding Dataset where those
standards have the field (``missing_type`` holds the 903 MISSING codes M/A).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    required: bool = True
    codes: tuple[str, ...] = ()  # allowed values, when the field is coded


@dataclass(frozen=True)
class Feed:
    source: str  # the system the feed comes from: crs, hr, agency, police, provider
    name: str  # the entity one row describes, plural
    description: str
    key: str  # the column that identifies a row within one extract
    columns: tuple[Column, ...]
    file_name: str = ""  # file in the landing folder <landing>/<source>/<extract date>/
    snapshot: bool = True  # True: each extract is the whole table; False: changed rows since the last
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))
        if not self.file_name:
            object.__setattr__(self, "file_name", f"{self.name}.csv")

    @property
    def id(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def raw_table(self) -> str:
        """Raw tables are named <source>__<entity>, as dbt sources and staging models expect."""
        return f"raw.{self.id}"


MISSING_TYPES = ("M", "A")  # SSDA903 MISSING: M = missing, A = away from placement without authorisation
RHI_OUTCOMES = (
    "OFFERED_ACCEPTED",
    "OFFERED_DECLINED",
    "NOT_OFFERED_MISSING_AGAIN",
    "NOT_OFFERED_NO_CONTACT",
    "NOT_OFFERED_OTHER",
)
RHI_CONDUCTED_BY = ("COUNCIL", "PROVIDER")
YES_NO = ("Y", "N")

CRS_MISSING_EPISODES = Feed(
    source="crs",
    name="missing_episodes",
    description="One row per missing or away-from-placement episode recorded by the council (SSDA903 missing table, "
    "with date-times, extended to children missing from home).",
    key="episode_id",
    columns=(
        Column("episode_id", "Case recording system's id of the episode"),
        Column("person_id", "Case recording system's person id of the child"),
        Column("missing_type", "SSDA903 MISSING: M missing, A away without authorisation", codes=MISSING_TYPES),
        Column("missing_start", "Date-time the episode started, local time (YYYY-MM-DD HH:MM)"),
        Column("missing_end", "Date-time the child returned, local time; empty while the episode is open",
               required=False),
        Column("looked_after", "Y if the child was looked after when the episode started", codes=YES_NO),
        Column("team", "Team holding the child's case"),
    ),
)

CRS_RETURN_HOME_INTERVIEWS = Feed(
    source="crs",
    name="return_home_interviews",
    description="One row per return home interview record on the council's RHI form.",
    key="rhi_id",
    columns=(
        Column("rhi_id", "Case recording system's id of the RHI form"),
        Column("episode_id", "The missing episode the interview follows"),
        Column("offered_at", "Date-time the interview was offered, local time", required=False),
        Column("interview_at", "Date-time the interview took place, local time", required=False),
        Column("outcome", "Outcome picklist", codes=RHI_OUTCOMES),
        Column("conducted_by", "Who offered or held the interview", codes=RHI_CONDUCTED_BY),
    ),
)

FEEDS: tuple[Feed, ...] = (CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS)
FEEDS_BY_ID = {f.id: f for f in FEEDS}
