{# generated from extract/feeds.py by `make declared` (python -m extract.declared): do not edit #}

{#- The codes of one list of extract/code_lists.py, by its name there: what staging's accepted_values
    tests accept, e.g. `values: "{{ code_list('PLACEMENT_TYPES') }}"`. An unknown name stops the parse. -#}
{% macro code_list(name) %}
    {%- set lists = {
        "YES_NO": ["Y", "N"],
        "GENDERS": ["1", "2", "0", "9"],
        "ETHNICITIES": ["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"],
        "REFERRAL_SOURCES": ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"],
        "CONTACT_DECISIONS": ["REFERRAL", "EARLY_HELP", "INFORMATION_ADVICE", "NFA"],
        "CIN_CLOSURE_REASONS": ["RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9"],
        "PRIMARY_NEEDS": ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N0"],
        "CP_CATEGORIES": ["NEG", "PHY", "SAB", "EMO", "MUL"],
        "CENSUS_BOOLEANS": ["true", "false", "TRUE", "FALSE", "1", "0"],
        "LEGAL_STATUSES": ["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"],
        "PLACEMENT_TYPES": ["A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1", "K3", "Z11", "Z12", "Z13", "Z14"],
        "SEXES": ["1", "2", "M", "F", "U"],
        "CATEGORIES_OF_NEED": ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"],
        "PLACEMENT_PROVIDERS": ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"],
        "REASONS_PLACE_CHANGE": ["ALLEG", "APPRR", "CARPL", "CHILD", "CLOSE", "CREQB", "CREQO", "CUSTOD", "LAREQ", "OTHER", "PLACE", "STAND"],
        "REVIEW_PARTICIPATION": ["PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"],
        "REASONS_NEW_EPISODE": ["S", "P", "L", "T", "U", "B"],
        "REASONS_EPISODE_CEASED": ["E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45", "E46", "E47", "E48", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "X1"],
        "MISSING_TYPES": ["M", "A"],
        "RHI_OUTCOMES": ["OFFERED_ACCEPTED", "OFFERED_DECLINED", "NOT_OFFERED_MISSING_AGAIN", "NOT_OFFERED_NO_CONTACT", "NOT_OFFERED_OTHER"],
        "RHI_CONDUCTED_BY": ["COUNCIL", "PROVIDER"],
        "CARE_LEAVER_CATEGORIES": ["ELIGIBLE", "RELEVANT", "FORMER_RELEVANT", "QUALIFYING"],
        "IN_TOUCH": ["YES", "NO", "DIED", "REFU", "NREQ", "RHOM"],
        "ACTIVITIES": ["F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "OTH", "F3", "P3", "0"],
        "ACTIVITIES_SSDA903": ["F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "F3", "P3", "0"],
        "ACCOMMODATION": ["B1", "B2", "C1", "C2", "D1", "D2", "E1", "E2", "G1", "G2", "H1", "H2", "K1", "K2", "R1", "R2", "S2", "T1", "T2", "U1", "U2", "V1", "V2", "W1", "W2", "X2", "Y1", "Y2", "Z1", "Z2", "0"],
        "PATHWAY_EVENTS": ["NEEDS_ASSESSMENT", "PATHWAY_PLAN", "PATHWAY_PLAN_REVIEW"],
        "VISIT_TYPES": ["CP", "CLA", "CIN", "CARE_LEAVER"],
        "ROLE_GROUPS": ["MANAGER", "SOCIAL_WORKER", "OTHER"],
        "LEAVING_REASONS": ["RESIGNATION", "RETIREMENT", "DISMISSAL", "END_OF_CONTRACT", "REDUNDANCY", "OTHER"],
        "POLICE_RISK_LEVELS": ["HIGH", "MEDIUM", "LOW", "NO_APPARENT_RISK"],
        "TRACKERS": ["UNBORN", "MASE", "EDGE_OF_CARE", "MISSING", "S47_TO_ICPC", "RETURN_HOME_S20", "ESCALATION"],
        "ESCALATION_RAISERS": ["CP_CHAIR", "IRO"]
    } -%}
    {%- if name not in lists -%}
        {{ exceptions.raise_compiler_error("code_list: no code list named '" ~ name ~ "' in extract/code_lists.py") }}
    {%- endif -%}
    {{ return(lists[name]) }}
{% endmacro %}
