{# generated from extract/feeds.py by `make declared` (python -m extract.declared): do not edit #}

{#- Each feed's columns: [declared type, required]. Read by macro typed (macros/typed.sql), which
    casts a raw column as its staging model's feed declares it. -#}
{% macro feed_columns() %}
    {{ return({
        "crs__people": {
            "person_id": ["text", true],
            "nhs_number": ["text", false],
            "date_of_birth": ["date", false],
            "expected_date_of_birth": ["date", false],
            "gender": ["code", true],
            "ethnicity": ["code", false],
            "uasc": ["flag", true],
            "postcode": ["text", false]
        },
        "crs__contacts": {
            "contact_id": ["text", true],
            "person_id": ["text", true],
            "contact_at": ["datetime", true],
            "contact_source": ["code", true],
            "decision_at": ["datetime", false],
            "decision": ["code", false],
            "updated_at": ["datetime", true]
        },
        "crs__referrals": {
            "referral_id": ["text", true],
            "person_id": ["text", true],
            "contact_id": ["text", false],
            "referral_date": ["date", true],
            "referral_source": ["code", true],
            "referral_nfa": ["flag", true],
            "team": ["text", false]
        },
        "crs__assessments": {
            "assessment_id": ["text", true],
            "person_id": ["text", true],
            "referral_id": ["text", false],
            "start_date": ["date", true],
            "authorised_date": ["date", false],
            "is_pre_birth": ["flag", true],
            "team": ["text", false]
        },
        "crs__s47_enquiries": {
            "s47_id": ["text", true],
            "person_id": ["text", true],
            "referral_id": ["text", false],
            "strategy_discussion_date": ["date", true],
            "icpc_required": ["flag", false],
            "outcome_date": ["date", false]
        },
        "crs__icpcs": {
            "icpc_id": ["text", true],
            "person_id": ["text", true],
            "s47_id": ["text", false],
            "icpc_date": ["date", true],
            "cp_plan_required": ["flag", true]
        },
        "crs__cp_plans": {
            "cp_plan_id": ["text", true],
            "person_id": ["text", true],
            "icpc_id": ["text", false],
            "start_date": ["date", true],
            "end_date": ["date", false],
            "initial_category": ["code", true]
        },
        "crs__cin_episodes": {
            "cin_episode_id": ["text", true],
            "person_id": ["text", true],
            "referral_id": ["text", false],
            "start_date": ["date", true],
            "end_date": ["date", false],
            "primary_need": ["code", true],
            "closure_reason": ["code", false]
        },
        "crs__looked_after_episodes": {
            "la_episode_id": ["text", true],
            "person_id": ["text", true],
            "start_date": ["date", true],
            "end_date": ["date", false],
            "reason_new_episode": ["code", true],
            "legal_status": ["code", true],
            "placement_type": ["code", true],
            "reason_episode_ceased": ["code", false],
            "placement_postcode": ["text", false]
        },
        "crs__missing_episodes": {
            "episode_id": ["text", true],
            "person_id": ["text", true],
            "missing_type": ["code", true],
            "missing_start": ["datetime", true],
            "missing_end": ["datetime", false],
            "looked_after": ["flag", true],
            "team": ["text", true]
        },
        "crs__return_home_interviews": {
            "rhi_id": ["text", true],
            "episode_id": ["text", true],
            "offered_at": ["datetime", false],
            "interview_at": ["datetime", false],
            "outcome": ["code", true],
            "conducted_by": ["code", true]
        },
        "crs__care_leavers": {
            "person_id": ["text", true],
            "eligibility_category": ["code", true],
            "eligibility_date": ["date", false],
            "personal_adviser_id": ["text", false],
            "in_touch": ["code", false],
            "activity": ["code", false],
            "accommodation": ["code", false],
            "in_education": ["flag", true]
        },
        "crs__pathway_plan_events": {
            "event_id": ["text", true],
            "person_id": ["text", true],
            "event_type": ["code", true],
            "event_date": ["date", true]
        },
        "crs__allocations": {
            "allocation_id": ["text", true],
            "person_id": ["text", true],
            "worker_id": ["text", true],
            "team": ["text", true],
            "start_date": ["date", true],
            "end_date": ["date", false]
        },
        "crs__visits": {
            "visit_id": ["text", true],
            "person_id": ["text", true],
            "worker_id": ["text", true],
            "visit_date": ["date", true],
            "visit_type": ["code", true],
            "seen_alone": ["flag", true],
            "updated_at": ["datetime", true]
        },
        "crs__tracker_entries": {
            "entry_id": ["text", true],
            "person_id": ["text", true],
            "tracker": ["code", true],
            "start_date": ["date", true],
            "end_date": ["date", false],
            "raised_by": ["text", false],
            "resolved": ["flag", true]
        },
        "hr__posts": {
            "snapshot_date": ["date", true],
            "post_id": ["text", true],
            "service_area": ["code", true],
            "team": ["text", true],
            "role_group": ["code", true],
            "role": ["text", true],
            "budgeted_fte": ["number", true],
            "case_holding": ["flag", true]
        },
        "hr__employees": {
            "snapshot_date": ["date", true],
            "employee_id": ["text", true],
            "post_id": ["text", false],
            "service_area": ["code", true],
            "team": ["text", true],
            "role_group": ["code", true],
            "fte": ["number", true],
            "case_holding": ["flag", true],
            "is_asye": ["flag", true],
            "start_date": ["date", true],
            "leaving_date": ["date", false],
            "leaving_reason": ["code", false]
        },
        "agency__assignments": {
            "assignment_id": ["text", true],
            "worker_id": ["text", true],
            "supplier": ["text", true],
            "service_area": ["code", true],
            "team": ["text", true],
            "role_group": ["code", true],
            "fte": ["number", true],
            "case_holding": ["flag", true],
            "covering_post_id": ["text", false],
            "start_date": ["date", true],
            "end_date": ["date", false]
        },
        "police__missing_notifications": {
            "notification_id": ["text", true],
            "police_person_reference": ["text", true],
            "crs_person_id": ["text", false],
            "nhs_number": ["text", false],
            "date_of_birth": ["date", false],
            "reported_missing_at": ["datetime", true],
            "found_at": ["datetime", false],
            "risk_level": ["code", true]
        },
        "provider__return_interviews": {
            "provider_rhi_id": ["text", true],
            "crs_person_id": ["text", true],
            "crs_episode_id": ["text", false],
            "police_notification_id": ["text", false],
            "referral_received_at": ["datetime", true],
            "offered_at": ["datetime", false],
            "interview_at": ["datetime", false],
            "outcome": ["code", true]
        }
    }) }}
{% endmacro %}
