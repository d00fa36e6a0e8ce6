"""The code lists, once each, with where each comes from.

A coded column of a feed (extract/feeds.py) names one of these lists. From that one
place they drive the loader's row checks (a value outside its list is quarantined,
extract/load.py), the raw-zone expectations (expectations/suites.py), dbt's
``accepted_values`` tests on the staging models (the macro ``code_list`` in
dbt_project/macros/code_lists.sql, generated from this file by ``make declared``),
the synthetic generator and docs/feeds.md.

Each list names its source: the public document and field it follows, and the
collection year it was checked against where it was (``source``). Lists that no
national return defines are this project's, from picklists seen in councils.
"""

from __future__ import annotations


class CodeList(tuple):
    """A tuple of codes that also says where the codes come from (``source``).

    ``years``: for a code a national return accepts only in some collection years, the first and
    last of them ({code: (first, last)}, None for open), each named by the year of its 31 March
    (2025 is the 2024-25 collection). Every code loads whatever the year (an episode keeps the
    code it was recorded with); a return's raw gate warns about a code outside its collection's
    years (expectations/suites.py, ``returns_checks``).
    """

    source: str
    years: dict[str, tuple[int | None, int | None]]

    def __new__(cls, codes, source: str, years: dict[str, tuple[int | None, int | None]] | None = None):
        self = super().__new__(cls, codes)
        self.source = source
        self.years = dict(years or {})
        unknown = set(self.years) - set(self)
        if unknown:
            raise ValueError(f"years given for codes not in the list: {sorted(unknown)}")
        return self


def _project(what: str) -> str:
    return f"This project's list ({what}); no national return defines it."


YES_NO = CodeList(("Y", "N"), "This project's flag convention: Y yes, N no.")
GENDERS = CodeList(("1", "2", "0", "9"),
                   "DfE Children in need census, field GenderCurrent: 1 male, 2 female, 0 not known, 9 not stated.")
ETHNICITIES = CodeList(
    ("WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB",
     "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"),
    "DfE Children in need census field Ethnicity, and the SSDA903 field ETHNIC (the same codes).")
REFERRAL_SOURCES = CodeList(
    ("1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B", "5C", "5D", "6", "7",
     "8", "9", "10"),
    "DfE Children in need census, field ReferralSource.")
CONTACT_DECISIONS = CodeList(("REFERRAL", "EARLY_HELP", "INFORMATION_ADVICE", "NFA"),
                             _project("the front door's decision on a contact"))
CIN_CLOSURE_REASONS = CodeList(("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9"),
                               "DfE Children in need census, field ReasonForClosure.")
PRIMARY_NEEDS = CodeList(("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N0"),
                         "DfE Children in need census, field PrimaryNeedCode.")
CP_CATEGORIES = CodeList(("NEG", "PHY", "SAB", "EMO", "MUL"),
                         "DfE Children in need census, field InitialCategoryOfAbuse.")
# The census XML's yes/no fields; the mappings (extract/returns/mappings/cin_census/) read true, TRUE and 1 as yes.
CENSUS_BOOLEANS = CodeList(("true", "false", "TRUE", "FALSE", "1", "0"),
                           "DfE Children in need census XML, its yes/no fields (the schema's yesnotype: "
                           "ReferralNFA, ICPCnotRequired): true, false, 1, 0; TRUE and FALSE are accepted as "
                           "spreadsheets write them.")
LEGAL_STATUSES = CodeList(("C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"),
                          "DfE SSDA903 children looked after return, episodes table, field LS (legal status).")
# Every collection year's codes: an episode keeps the code it was recorded with, and a folder of
# returns may hold any year's. A return's raw gate warns about a code outside its year (``years``).
PLACEMENT_TYPES = CodeList(
    ("A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1", "T0", "T1", "T2", "T3",
     "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1", "K3", "Z11", "Z12", "Z13", "Z14"),
    "DfE SSDA903 children looked after return, episodes table, field PLACE (placement type), as the DfE "
    "validator's rule 146 checks it (data-to-insight/csc-validator-be-903): the first 27 codes to 2023-24; "
    "2024-25 adds K3; 2025-26 adds Z11 to Z14 and no longer accepts H5, P2 and Z1.",
    years={"H5": (None, 2025), "P2": (None, 2025), "Z1": (None, 2025), "K3": (2025, None),
           "Z11": (2026, None), "Z12": (2026, None), "Z13": (2026, None), "Z14": (2026, None)})
# Both codings are accepted, as a folder may hold returns of either side of 2024-25; the crs__people
# mapping (extract/returns/mappings/ssda903/) turns M, F and U into GENDERS' 1, 2 and 0.
SEXES = CodeList(("1", "2", "M", "F", "U"),
                 "DfE SSDA903 children looked after return, header and UASC tables, field SEX, as the DfE "
                 "validator's rule 101 checks it in the header: to 2023-24 1 male, 2 female; from 2024-25 M, F "
                 "or U.",
                 years={"1": (None, 2024), "2": (None, 2024), "M": (2025, None), "F": (2025, None),
                        "U": (2025, None)})
CATEGORIES_OF_NEED = CodeList(("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"),
                              "DfE SSDA903 children looked after return, episodes table, field CIN (category of "
                              "need): the census's PrimaryNeedCode less N9 (other than children in need) and N0 "
                              "(not stated).")
PLACEMENT_PROVIDERS = CodeList(("PR0", "PR1", "PR2", "PR3", "PR4", "PR5"),
                               "DfE SSDA903 children looked after return, episodes table, field PLACE_PROVIDER.")
REASONS_PLACE_CHANGE = CodeList(
    ("ALLEG", "APPRR", "CARPL", "CHILD", "CLOSE", "CREQB", "CREQO", "CUSTOD", "LAREQ", "OTHER", "PLACE", "STAND"),
    "DfE SSDA903 children looked after return, episodes table, field REASON_PLACE_CHANGE, as the DfE "
    "validator's rule 1009 checks it (data-to-insight/csc-validator-be-903: these 12 codes; STAFF, which "
    "this list once held, is not one of them).")
REVIEW_PARTICIPATION = CodeList(("PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"),
                                "DfE SSDA903 children looked after return, reviews table, field REVIEW_CODE (how "
                                "the child took part in the review), as the DfE validator's rule 167 checks it.")
REASONS_NEW_EPISODE = CodeList(("S", "P", "L", "T", "U", "B"),
                               "DfE SSDA903 children looked after return, episodes table, field RNE.")
REASONS_EPISODE_CEASED = CodeList(
    ("E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45", "E46", "E47", "E48", "E4A", "E4B",
     "E5", "E6", "E7", "E8", "E9", "X1"),
    "DfE SSDA903 children looked after return, episodes table, field REC.")
MISSING_TYPES = CodeList(("M", "A"),
                         "DfE SSDA903 children looked after return, missing table, field MISSING: M missing, "
                         "A away from placement without authorisation.")
RHI_OUTCOMES = CodeList(
    ("OFFERED_ACCEPTED", "OFFERED_DECLINED", "NOT_OFFERED_MISSING_AGAIN", "NOT_OFFERED_NO_CONTACT",
     "NOT_OFFERED_OTHER"),
    "This project's list, extending Ofsted's Annex A list 8 and the Standard Safeguarding Dataset's offered and "
    "accepted flags with the picklists seen in councils.")
RHI_CONDUCTED_BY = CodeList(("COUNCIL", "PROVIDER"), _project("who offered or held a return home interview"))
CARE_LEAVER_CATEGORIES = CodeList(("ELIGIBLE", "RELEVANT", "FORMER_RELEVANT", "QUALIFYING"),
                                  "Children (Leaving Care) Act 2000 categories, as named in the Care Planning, "
                                  "Placement and Case Review (England) Regulations 2010.")
IN_TOUCH = CodeList(("YES", "NO", "DIED", "REFU", "NREQ", "RHOM"),
                    "DfE SSDA903 children looked after return, OC3 table (care leavers), field IN_TOUCH.")
# "0" is the 903's "no information" (the young person died, refused, or needs no service). OTH is
# this project's own. The generator draws from this tuple by position (synthetic/generate.py): keep its order.
ACTIVITIES = CodeList(
    ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "OTH", "F3", "P3", "0"),
    "The SSDA903 OC3 field ACTIV's codes (ACTIVITIES_SSDA903), and OTH, this project's code for a case "
    "recording system's activity that has no 903 code (not EET, not NEET: unknown in the marts).")
ACTIVITIES_SSDA903 = CodeList(
    tuple(code for code in ACTIVITIES if code != "OTH"),
    "DfE SSDA903 children looked after return, OC3 table (care leavers), field ACTIV. The DfE validator's "
    "rule 132 (2022-23 onwards) accepts all but F3 and P3 (training or employment, written before F4 and F5 "
    "split them), which older returns hold (the public fake SSDA903 return in tests/data does).")
# A letter for the kind of accommodation (ACCOMMODATION_KINDS), then 1 suitable / 2 not suitable; "0" no
# information. S (no fixed abode, homeless) and X (in custody) are never suitable: S1 and X1 are not codes.
ACCOMMODATION_KINDS = "BCDEGHKRSTUVWXYZ"
ACCOMMODATION = CodeList(
    tuple(f"{k}{s}" for k in ACCOMMODATION_KINDS for s in "12" if f"{k}{s}" not in ("S1", "X1")) + ("0",),
    "DfE SSDA903 children looked after return, OC3 table (care leavers), field ACCOM; checked against the DfE "
    "validator's rule 133 (data-to-insight/csc-validator-be-903, rules for 2022 to 2023 onwards), which rejects "
    "S1 and X1.")
PATHWAY_EVENTS = CodeList(("NEEDS_ASSESSMENT", "PATHWAY_PLAN", "PATHWAY_PLAN_REVIEW"),
                          _project("the leaving-care events the case recording system records"))
VISIT_TYPES = CodeList(("CP", "CLA", "CIN", "CARE_LEAVER"), _project("kinds of statutory visit"))
ROLE_GROUPS = CodeList(("MANAGER", "SOCIAL_WORKER", "OTHER"),
                       "DfE Children's social work workforce census role groupings, as the workforce marts group "
                       "them (managers, social workers, others).")
LEAVING_REASONS = CodeList(("RESIGNATION", "RETIREMENT", "DISMISSAL", "END_OF_CONTRACT", "REDUNDANCY", "OTHER"),
                           "DfE Children's social work workforce census, reason for leaving, named in words.")
POLICE_RISK_LEVELS = CodeList(("HIGH", "MEDIUM", "LOW", "NO_APPARENT_RISK"),
                              "The police missing-person risk gradings (College of Policing guidance), as the "
                              "police feed writes them.")
TRACKERS = CodeList(("UNBORN", "MASE", "EDGE_OF_CARE", "MISSING", "S47_TO_ICPC", "RETURN_HOME_S20", "ESCALATION"),
                    _project("the improvement plan's trackers"))
ESCALATION_RAISERS = CodeList(("CP_CHAIR", "IRO"),
                              _project("who raised an escalation: a child protection conference chair or an "
                                       "independent reviewing officer"))

# Every list by its name here: the generated dbt macro ``code_list(name)`` serves them by the same names.
CODE_LISTS: dict[str, CodeList] = {name: value for name, value in globals().items() if isinstance(value, CodeList)}
