"""One declaration per feed: the file it arrives in, its columns, types, codes and key.

The loader, the generator and the raw-zone expectations read these declarations;
``make declared`` (extract/declared.py) writes from them the dbt sources, the column
types staging casts by (macro ``typed``), the code lists dbt tests (macro
``code_list``; the lists themselves are in extract/code_lists.py) and docs/feeds.md.
Nothing else describes a feed's shape. Adding a feed: docs/operations.md, "Adding a
feed".

Conventions for every file feed: CSV with a header row, comma-delimited, dates as
``YYYY-MM-DD``, date-times as ``YYYY-MM-DD HH:MM`` in London local time, empty for
unknown. Field names and codes follow public standards where they have the field:
SSDA903 (looked-after children), the Children in Need census (CIN), Ofsted's
Annex A, the children's social work workforce census (CSWW), and Data to
Insight's Standard Safeguarding Dataset (SSD). ``standard`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import reference_data
# The code lists (re-exported: the generator and the returns read them as feeds.<LIST>).
from .code_lists import (
    ACCOMMODATION, ACTIVITIES, CARE_LEAVER_CATEGORIES, CIN_CLOSURE_REASONS, CONTACT_DECISIONS, CP_CATEGORIES,
    ETHNICITIES, GENDERS, IN_TOUCH, LEAVING_REASONS, LEGAL_STATUSES, MISSING_TYPES, PATHWAY_EVENTS, PLACEMENT_TYPES,
    POLICE_RISK_LEVELS, PRIMARY_NEEDS, REASONS_EPISODE_CEASED, REASONS_NEW_EPISODE, REFERRAL_SOURCES,
    RHI_CONDUCTED_BY, RHI_OUTCOMES, ROLE_GROUPS, TRACKERS, VISIT_TYPES, YES_NO,
)

# Column types: how staging casts the text the loader keeps, and how the loader's row
# checks decide a value is malformed.
TEXT, CODE, DATE, DATETIME, NUMBER, FLAG = "text", "code", "date", "datetime", "number", "flag"
# A date as the DfE's statutory returns write it (SSDA903 CSVs, Annex A): dd/mm/yyyy. Only the
# returns' feeds (extract/returns/) use it; the nightly feeds write ISO dates.
DATE_DMY = "date_dmy"
COLUMN_TYPES = (TEXT, CODE, DATE, DATETIME, NUMBER, FLAG, DATE_DMY)
# The one definition of a well-formed value of each type (POSIX regex, as PostgreSQL's `~` reads it).
# The loader quarantines a value that does not match, or is not a real date (2026-02-30); for speed it
# tests dates as LIKE '____-__-__' plus pg_input_is_valid, which accepts exactly the same values.
VALUE_PATTERNS = {
    DATE: r"^\d{4}-\d{2}-\d{2}$",  # YYYY-MM-DD
    DATETIME: r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$",  # YYYY-MM-DD HH:MM, London local time
    NUMBER: r"^-?\d+(\.\d+)?$",  # decimal point, no thousands separator
    DATE_DMY: r"^\d{2}/\d{2}/\d{4}$",  # DD/MM/YYYY (day first), as the DfE returns write dates
}
# Types that hold a calendar date, in either spelling.
DATE_TYPES = (DATE, DATE_DMY)


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    type: str = TEXT
    required: bool = True
    codes: tuple[str, ...] = ()  # allowed values, for CODE columns
    standard: str = ""  # the public standard's field name, e.g. "SSDA903 MIS_START"
    label: str = field(init=False, default="")  # the name as declared (and as files and messages write it)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.name)
        # Stored in lower case: a return's field names (CHILD, LAchildID) become PostgreSQL columns,
        # and unquoted SQL (ours, dbt's, Great Expectations') reads identifiers in lower case.
        # The loader matches a file's header to the declaration in any letter case.
        object.__setattr__(self, "name", self.name.lower())
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if self.type == FLAG and not self.codes:
            object.__setattr__(self, "codes", YES_NO)
        if self.type == CODE and not self.codes:
            raise ValueError(f"column {self.name}: a code column needs its codes")


@dataclass(frozen=True)
class Feed:
    source: str  # the system the feed comes from: crs, hr, agency, police, provider
    name: str  # the entity one row describes, plural
    description: str
    key: tuple[str, ...]  # the columns that identify a row within one extract
    columns: tuple[Column, ...]
    file_name: str = ""  # file in the landing folder <landing>/<source>/<extract date>/
    # True: each extract is the whole table (staging reads the night's batch).
    # False: each extract holds the rows changed since the last one (staging keeps the
    # latest version of each key across batches, by `updated_at`).
    snapshot: bool = True
    # (start column, end column): a row whose end is before its start is quarantined.
    start_end: tuple[str, str] | None = None
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))
        object.__setattr__(self, "key", tuple(k.lower() for k in self.key))  # as Column stores names
        if self.start_end:
            object.__setattr__(self, "start_end", tuple(c.lower() for c in self.start_end))
        if not self.file_name:
            object.__setattr__(self, "file_name", f"{self.name}.csv")
        unknown = [k for k in self.key if k not in self.column_names]
        if unknown:
            raise ValueError(f"feed {self.id}: key column(s) {unknown} not declared")
        if not self.snapshot and "updated_at" not in self.column_names:
            raise ValueError(f"feed {self.id}: an incremental feed needs an updated_at column")

    @property
    def id(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def raw_table(self) -> str:
        """Raw tables are named <source>__<entity>, as dbt sources and staging models expect."""
        return f"raw.{self.id}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name.lower())


# --- code lists: each lives once, with its source, in extract/code_lists.py -------------------

# The council's service areas are its reference data, not code: read (and checked) from
# service_areas.csv in SAFEGUARDING_REFERENCE_DATA_DIR (extract/reference_data.py).
SERVICE_AREAS = reference_data.service_area_codes()


PERSON_ID = Column("person_id", "Case recording system's person id of the child",
                   standard="SSD person_id / CIN LAchildID")

# --- case recording system (crs) -----------------------------------------------------------------

CRS_PEOPLE = Feed(
    source="crs", name="people", key=("person_id",),
    description="One row per child known to children's social care (and unborn children with an expected date).",
    columns=(
        PERSON_ID,
        Column("nhs_number", "NHS number, 10 digits", required=False, standard="SSD person_nhs_number"),
        Column("date_of_birth", "Date of birth; empty for an unborn child", DATE, required=False,
               standard="CIN PersonBirthDate"),
        Column("expected_date_of_birth", "Expected date of birth of an unborn child", DATE, required=False,
           standard="CIN ExpectedPersonBirthDate"),
        Column("gender", "CIN GenderCurrent: 1 male, 2 female, 0 not known, 9 not stated", CODE, codes=GENDERS),
        Column("ethnicity", "Ethnic group code", CODE, required=False, codes=ETHNICITIES, standard="CIN Ethnicity"),
        Column("uasc", "Y if an unaccompanied asylum-seeking child", FLAG, standard="SSDA903 UASC"),
        Column("postcode", "Home postcode (raw zone only; marts keep at most the sector)", required=False),
    ),
)

CRS_CONTACTS = Feed(
    source="crs", name="contacts", key=("contact_id",), snapshot=False, start_end=("contact_at", "decision_at"),
    description="One row per contact to the front door (MASH). Incremental: rows changed since the last extract.",
    columns=(
        Column("contact_id", "Id of the contact"),
        PERSON_ID,
        Column("contact_at", "When the contact was received", DATETIME),
        Column("contact_source", "Who made the contact (CIN ReferralSource codes)", CODE, codes=REFERRAL_SOURCES),
        Column("decision_at", "When the front door decided what to do; empty while undecided", DATETIME,
               required=False),
        Column("decision", "The decision; empty while undecided", CODE, required=False, codes=CONTACT_DECISIONS),
        Column("updated_at", "When the record last changed in the source system", DATETIME),
    ),
)

CRS_REFERRALS = Feed(
    source="crs", name="referrals", key=("referral_id",),
    description="One row per referral to children's social care (CIN census referral).",
    columns=(
        Column("referral_id", "Id of the referral"),
        PERSON_ID,
        Column("contact_id", "The contact that led to the referral", required=False),
        Column("referral_date", "Date of the referral", DATE, standard="CIN CINreferralDate"),
        Column("referral_source", "Who referred", CODE, codes=REFERRAL_SOURCES, standard="CIN ReferralSource"),
        Column("referral_nfa", "Y if the referral ended in no further action", FLAG, standard="CIN ReferralNFA"),
        Column("team", "Team the referral was allocated to", required=False),
    ),
)

CRS_ASSESSMENTS = Feed(
    source="crs", name="assessments", key=("assessment_id",), start_end=("start_date", "authorised_date"),
    description="One row per children and families (single) assessment.",
    columns=(
        Column("assessment_id", "Id of the assessment"),
        PERSON_ID,
        Column("referral_id", "The referral the assessment follows", required=False),
        Column("start_date", "Date the assessment started", DATE, standard="CIN AssessmentActualStartDate"),
        Column("authorised_date", "Date the assessment was authorised (completed); empty while open", DATE,
           required=False, standard="CIN AssessmentAuthorisationDate"),
        Column("is_pre_birth", "Y for an unborn or pre-birth assessment", FLAG),
        Column("team", "Team holding the assessment", required=False),
    ),
)

CRS_S47_ENQUIRIES = Feed(
    source="crs", name="s47_enquiries", key=("s47_id",),
    description="One row per section 47 enquiry, dated from its strategy discussion.",
    columns=(
        Column("s47_id", "Id of the enquiry"),
        PERSON_ID,
        Column("referral_id", "The referral the enquiry belongs to", required=False),
        Column("strategy_discussion_date", "Date of the strategy discussion that started the enquiry", DATE,
           standard="CIN S47ActualStartDate"),
        Column("icpc_required", "Y if the enquiry concluded an ICPC is needed; empty while open", FLAG, required=False,
           standard="CIN ICPCnotRequired (inverted)"),
        Column("outcome_date", "Date the enquiry concluded; empty while open", DATE, required=False),
    ),
)

CRS_ICPCS = Feed(
    source="crs", name="icpcs", key=("icpc_id",),
    description="One row per initial child protection conference.",
    columns=(
        Column("icpc_id", "Id of the conference"),
        PERSON_ID,
        Column("s47_id", "The section 47 enquiry that led to it", required=False),
        Column("icpc_date", "Date of the conference", DATE, standard="CIN DateOfInitialCPC"),
        Column("cp_plan_required", "Y if the child was made subject to a child protection plan", FLAG),
    ),
)

CRS_CP_PLANS = Feed(
    source="crs", name="cp_plans", key=("cp_plan_id",), start_end=("start_date", "end_date"),
    description="One row per child protection plan.",
    columns=(
        Column("cp_plan_id", "Id of the plan"),
        PERSON_ID,
        Column("icpc_id", "The conference that made the plan", required=False),
        Column("start_date", "Date the plan started", DATE, standard="CIN CPPstartDate"),
        Column("end_date", "Date the plan ended; empty while open", DATE, required=False, standard="CIN CPPendDate"),
        Column("initial_category", "Initial category of abuse", CODE, codes=CP_CATEGORIES,
           standard="CIN InitialCategoryOfAbuse"),
    ),
)

CRS_CIN_EPISODES = Feed(
    source="crs", name="cin_episodes", key=("cin_episode_id",), start_end=("start_date", "end_date"),
    description="One row per children-in-need episode (CIN census CINdetails).",
    columns=(
        Column("cin_episode_id", "Id of the episode"),
        PERSON_ID,
        Column("referral_id", "The referral that opened the episode", required=False),
        Column("start_date", "Date the episode started (the referral date)", DATE, standard="CIN CINreferralDate"),
        Column("end_date", "Date the episode closed; empty while open", DATE, required=False,
               standard="CIN CINclosureDate"),
        Column("primary_need", "Primary need code", CODE, codes=PRIMARY_NEEDS, standard="CIN PrimaryNeedCode"),
        Column("closure_reason", "Reason for closure; empty while open", CODE, required=False,
               codes=CIN_CLOSURE_REASONS,
           standard="CIN ReasonForClosure"),
    ),
)

CRS_LOOKED_AFTER_EPISODES = Feed(
    source="crs", name="looked_after_episodes", key=("la_episode_id",), start_end=("start_date", "end_date"),
    description="One row per looked-after episode: a period with one legal status and one placement (SSDA903 episodes).",
    columns=(
        Column("la_episode_id", "Id of the episode"),
        PERSON_ID,
        Column("start_date", "Date the episode started", DATE, standard="SSDA903 DECOM"),
        Column("end_date", "Date the episode ended; empty while open", DATE, required=False, standard="SSDA903 DEC"),
        Column("reason_new_episode", "Why a new episode started", CODE, codes=REASONS_NEW_EPISODE,
               standard="SSDA903 RNE"),
        Column("legal_status", "Legal status", CODE, codes=LEGAL_STATUSES, standard="SSDA903 LS"),
        Column("placement_type", "Placement type", CODE, codes=PLACEMENT_TYPES, standard="SSDA903 PLACE"),
        Column("reason_episode_ceased", "Why the episode ended; empty while open", CODE, required=False,
           codes=REASONS_EPISODE_CEASED, standard="SSDA903 REC"),
        Column("placement_postcode", "Placement postcode (raw zone only)", required=False, standard="SSDA903 PL_POST"),
    ),
)

CRS_MISSING_EPISODES = Feed(
    source="crs", name="missing_episodes", key=("episode_id",), start_end=("missing_start", "missing_end"),
    description="One row per missing or away-from-placement episode recorded by the council (SSDA903 missing table, "
    "with date-times, extended to children missing from home).",
    columns=(
        Column("episode_id", "Case recording system's id of the episode"),
        PERSON_ID,
        Column("missing_type", "M missing, A away from placement without authorisation", CODE, codes=MISSING_TYPES,
           standard="SSDA903 MISSING"),
        Column("missing_start", "Date-time the episode started", DATETIME, standard="SSDA903 MIS_START (with time)"),
        Column("missing_end", "Date-time the child returned; empty while the episode is open", DATETIME, required=False,
           standard="SSDA903 MIS_END (with time)"),
        Column("looked_after", "Y if the child was looked after when the episode started", FLAG),
        Column("team", "Team holding the child's case"),
    ),
)

CRS_RETURN_HOME_INTERVIEWS = Feed(
    source="crs", name="return_home_interviews", key=("rhi_id",),
    description="One row per return home interview record on the council's RHI form.",
    columns=(
        Column("rhi_id", "Case recording system's id of the RHI form"),
        Column("episode_id", "The missing episode the interview follows"),
        Column("offered_at", "Date-time the interview was offered", DATETIME, required=False),
        Column("interview_at", "Date-time the interview took place", DATETIME, required=False),
        Column("outcome", "Outcome picklist", CODE, codes=RHI_OUTCOMES,
           standard="Annex A list 8 / SSD offered and accepted flags, extended"),
        Column("conducted_by", "Who offered or held the interview", CODE, codes=RHI_CONDUCTED_BY),
    ),
)

CRS_CARE_LEAVERS = Feed(
    source="crs", name="care_leavers", key=("person_id",),
    description="One row per young person the council has leaving-care duties to, as at the extract.",
    columns=(
        PERSON_ID,
        Column("eligibility_category", "Leaving-care category", CODE, codes=CARE_LEAVER_CATEGORIES),
        Column("eligibility_date", "Date the young person became eligible (13 weeks looked after since 14, aged 16+)",
           DATE, required=False),
        Column("personal_adviser_id", "Worker id of the personal adviser; empty if none allocated", required=False),
        Column("in_touch", "Whether the council is in touch", CODE, required=False, codes=IN_TOUCH,
           standard="SSDA903 OC3 IN_TOUCH"),
        Column("activity", "Main activity (education, training, employment)", CODE, required=False, codes=ACTIVITIES,
           standard="SSDA903 OC3 ACTIV"),
        Column("accommodation", "Accommodation and its suitability (1 suitable, 2 not)", CODE, required=False,
           codes=ACCOMMODATION, standard="SSDA903 OC3 ACCOM"),
        Column("in_education", "Y if in higher education or training past 21 (duties extend to 25)", FLAG),
    ),
)

CRS_PATHWAY_PLAN_EVENTS = Feed(
    source="crs", name="pathway_plan_events", key=("event_id",),
    description="Every needs assessment, pathway plan and pathway plan review, one row each (not only the latest).",
    columns=(
        Column("event_id", "Id of the event"),
        PERSON_ID,
        Column("event_type", "NEEDS_ASSESSMENT, PATHWAY_PLAN or PATHWAY_PLAN_REVIEW", CODE, codes=PATHWAY_EVENTS),
        Column("event_date", "Date the assessment, plan or review was completed", DATE),
    ),
)

CRS_ALLOCATIONS = Feed(
    source="crs", name="allocations", key=("allocation_id",), start_end=("start_date", "end_date"),
    description="One row per allocation of a child's case to a worker.",
    columns=(
        Column("allocation_id", "Id of the allocation"),
        PERSON_ID,
        Column("worker_id", "HR employee id or agency worker id of the allocated worker"),
        Column("team", "Team of the allocation"),
        Column("start_date", "Date the allocation started", DATE),
        Column("end_date", "Date it ended; empty while current", DATE, required=False),
    ),
)

CRS_VISITS = Feed(
    source="crs", name="visits", key=("visit_id",), snapshot=False,
    description="One row per statutory visit. Incremental: rows changed since the last extract.",
    columns=(
        Column("visit_id", "Id of the visit"),
        PERSON_ID,
        Column("worker_id", "Worker who visited"),
        Column("visit_date", "Date of the visit", DATE),
        Column("visit_type", "Kind of statutory visit", CODE, codes=VISIT_TYPES),
        Column("seen_alone", "Y if the child was seen alone", FLAG),
        Column("updated_at", "When the record last changed in the source system", DATETIME),
    ),
)

CRS_TRACKER_ENTRIES = Feed(
    source="crs", name="tracker_entries", key=("entry_id",), start_end=("start_date", "end_date"),
    description="One row per child on one of the improvement plan's trackers (unborn, MASE, edge of care, missing, "
    "s47 to ICPC, return home from s20, escalations by conference chairs and IROs).",
    columns=(
        Column("entry_id", "Id of the tracker entry"),
        PERSON_ID,
        Column("tracker", "Which tracker", CODE, codes=TRACKERS),
        Column("start_date", "Date the child was added", DATE),
        Column("end_date", "Date the entry was closed; empty while open", DATE, required=False),
        Column("raised_by", "For escalations: CP_CHAIR or IRO", required=False),
        Column("resolved", "Y once the concern or escalation is resolved", FLAG),
    ),
)

# --- HR (monthly snapshots, twelve months in each delivery) --------------------------------------

HR_POSTS = Feed(
    source="hr", name="posts", key=("snapshot_date", "post_id"),
    description="The establishment: one row per budgeted post per month-end snapshot.",
    columns=(
        Column("snapshot_date", "Month-end date of the snapshot", DATE),
        Column("post_id", "Id of the post"),
        Column("service_area", "Service area (the council's reference data: service_areas.csv)", CODE,
               codes=SERVICE_AREAS),
        Column("team", "Team"),
        Column("role_group", "MANAGER, SOCIAL_WORKER or OTHER", CODE, codes=ROLE_GROUPS,
               standard="CSWW role groupings"),
        Column("role", "Job title"),
        Column("budgeted_fte", "Budgeted full-time equivalent", NUMBER),
        Column("case_holding", "Y if the post holds cases", FLAG, standard="CSWW case holder"),
    ),
)

HR_EMPLOYEES = Feed(
    source="hr", name="employees", key=("snapshot_date", "employee_id"), start_end=("start_date", "leaving_date"),
    description="One row per directly employed worker per month-end snapshot (leavers stay in the month they left).",
    columns=(
        Column("snapshot_date", "Month-end date of the snapshot", DATE),
        Column("employee_id", "HR employee id"),
        Column("post_id", "The post held", required=False),
        Column("service_area", "Service area (the council's reference data: service_areas.csv)", CODE,
               codes=SERVICE_AREAS),
        Column("team", "Team"),
        Column("role_group", "MANAGER, SOCIAL_WORKER or OTHER", CODE, codes=ROLE_GROUPS),
        Column("fte", "Contracted full-time equivalent", NUMBER, standard="CSWW FTE"),
        Column("case_holding", "Y if the worker holds cases", FLAG),
        Column("is_asye", "Y for a newly qualified worker in the Assessed and Supported Year in Employment", FLAG),
        Column("start_date", "Date the worker started", DATE),
        Column("leaving_date", "Date the worker left; empty if still employed", DATE, required=False),
        Column("leaving_reason", "Reason for leaving, from the exit interview", CODE, required=False,
               codes=LEAVING_REASONS,
           standard="CSWW reason for leaving"),
    ),
)

# --- agency workers ------------------------------------------------------------------------------

AGENCY_ASSIGNMENTS = Feed(
    source="agency", name="assignments", key=("assignment_id",), start_end=("start_date", "end_date"),
    description="One row per agency worker assignment from the supplier.",
    columns=(
        Column("assignment_id", "Supplier's id of the assignment"),
        Column("worker_id", "Agency worker id (the id allocations use)"),
        Column("supplier", "Agency supplier"),
        Column("service_area", "Service area (the council's reference data: service_areas.csv)", CODE,
               codes=SERVICE_AREAS),
        Column("team", "Team"),
        Column("role_group", "MANAGER, SOCIAL_WORKER or OTHER", CODE, codes=ROLE_GROUPS),
        Column("fte", "Full-time equivalent of the assignment", NUMBER),
        Column("case_holding", "Y if the worker holds cases", FLAG),
        Column("covering_post_id", "The vacant post the assignment covers", required=False),
        Column("start_date", "Date the assignment started", DATE),
        Column("end_date", "Date it ended; empty if current", DATE, required=False),
    ),
)

# --- partners ------------------------------------------------------------------------------------

POLICE_MISSING_NOTIFICATIONS = Feed(
    source="police", name="missing_notifications", key=("notification_id",),
    start_end=("reported_missing_at", "found_at"),
    description="One row per missing-person notification the police sent to the council about a child.",
    columns=(
        Column("notification_id", "Police notification id"),
        Column("police_person_reference", "Police's own person reference"),
        Column("crs_person_id", "The council's person id, where the police know it (shared via the MASH)",
           required=False),
        Column("nhs_number", "NHS number, where known", required=False),
        Column("date_of_birth", "Date of birth as the police recorded it", DATE, required=False),
        Column("reported_missing_at", "When the child was reported missing", DATETIME),
        Column("found_at", "When the child was found or returned; empty while missing", DATETIME, required=False),
        Column("risk_level", "Police risk grading", CODE, codes=POLICE_RISK_LEVELS),
    ),
)

PROVIDER_RETURN_INTERVIEWS = Feed(
    source="provider", name="return_interviews", key=("provider_rhi_id",),
    description="One row per return interview referral handled by the commissioned return-interview provider.",
    columns=(
        Column("provider_rhi_id", "Provider's id of the referral"),
        Column("crs_person_id", "The council's person id of the child"),
        Column("crs_episode_id", "The council's missing episode id, where the referral gave it", required=False),
        Column("police_notification_id", "The police notification, where the referral came from the police",
           required=False),
        Column("referral_received_at", "When the provider received the referral", DATETIME),
        Column("offered_at", "When the interview was offered", DATETIME, required=False),
        Column("interview_at", "When the interview took place", DATETIME, required=False),
        Column("outcome", "Outcome picklist", CODE, codes=RHI_OUTCOMES),
    ),
)

FEEDS: tuple[Feed, ...] = (
    CRS_PEOPLE, CRS_CONTACTS, CRS_REFERRALS, CRS_ASSESSMENTS, CRS_S47_ENQUIRIES, CRS_ICPCS, CRS_CP_PLANS,
    CRS_CIN_EPISODES, CRS_LOOKED_AFTER_EPISODES, CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS,
    CRS_CARE_LEAVERS, CRS_PATHWAY_PLAN_EVENTS, CRS_ALLOCATIONS, CRS_VISITS, CRS_TRACKER_ENTRIES,
    HR_POSTS, HR_EMPLOYEES, AGENCY_ASSIGNMENTS, POLICE_MISSING_NOTIFICATIONS, PROVIDER_RETURN_INTERVIEWS,
)
FEEDS_BY_ID = {f.id: f for f in FEEDS}
SOURCES = tuple(dict.fromkeys(f.source for f in FEEDS))

# What each source system is (the dbt sources' descriptions). A new source adds a line here.
SOURCE_DESCRIPTIONS = {
    "crs": "The council's case recording system (children's social care).",
    "hr": "The council's HR system: the establishment (posts) and the directly employed workers. Each delivery "
          "holds twelve month-end snapshots (snapshot_date).",
    "agency": "The agency supplier's assignments of agency social workers to the council's teams.",
    "police": "Missing-person notifications the police send to the council about children (via the MASH).",
    "provider": "Returns from the commissioned return-interview provider: one row per return interview referral "
                "it handled.",
}
# How long after its last load a source is stale (dbt source freshness; the feeds arrive nightly).
FRESHNESS_WARN_HOURS, FRESHNESS_ERROR_HOURS = 26, 50
