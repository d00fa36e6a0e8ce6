{#-
  Front door measures by month, one row per month, from the event marts. Each measure is
  dated by the event that starts it: contacts by month received, referrals by referral month,
  assessments by the month they started (their 45-working-day clock). Items whose window is
  still open at the extract are pending (macros/pending.sql): counted in *_pending_count,
  outside the rates. Rates are null when their denominator is 0.

  A measure whose feed was not delivered for the extract is not measurable
  (macros/measurability.sql): its counts and rate are null, not 0, and its
  is_<measure>_measurable column is false. E.g. a council sending only its CIN census
  has referrals and assessments but no contacts.
-#}
with events as (
    select contact_month as activity_month,
           1 as contact_count,
           case when in_denominator then 1 else 0 end as contact_denominator_count,
           case when decision_status = 'PENDING' then 1 else 0 end as contact_pending_count,
           case when decided_within_24h then 1 else 0 end as contact_decided_within_24h_count,
           0 as referral_count, 0 as referral_nfa_count, 0 as re_referral_count,
           0 as assessment_started_count, 0 as assessment_pending_count, 0 as assessment_denominator_count,
           0 as assessment_within_45_working_days_count
    from {{ ref('mart_front_door_contacts') }}
    union all
    select referral_month, 0, 0, 0, 0,
           1, case when is_nfa then 1 else 0 end, case when is_re_referral then 1 else 0 end,
           0, 0, 0, 0
    from {{ ref('mart_front_door_referrals') }}
    union all
    select start_month, 0, 0, 0, 0, 0, 0, 0,
           1, case when timeliness_status = 'PENDING' then 1 else 0 end, case when in_denominator then 1 else 0 end,
           case when authorised_within_45_working_days then 1 else 0 end
    from {{ ref('mart_front_door_assessments') }}
),

monthly as (
    select
        activity_month,
        sum(contact_count)::bigint                              as contact_count,
        sum(contact_denominator_count)::bigint                  as contact_denominator_count,
        sum(contact_pending_count)::bigint                      as contact_pending_count,
        sum(contact_decided_within_24h_count)::bigint           as contact_decided_within_24h_count,
        sum(referral_count)::bigint                             as referral_count,
        sum(referral_nfa_count)::bigint                         as referral_nfa_count,
        sum(re_referral_count)::bigint                          as re_referral_count,
        sum(assessment_started_count)::bigint                   as assessment_started_count,
        sum(assessment_pending_count)::bigint                   as assessment_pending_count,
        sum(assessment_denominator_count)::bigint               as assessment_denominator_count,
        sum(assessment_within_45_working_days_count)::bigint    as assessment_within_45_working_days_count
    from events
    group by activity_month
),

measurability as (
    select {{ is_measurable('contacts') }}    as is_contacts_measurable,
           {{ is_measurable('referrals') }}   as is_referrals_measurable,
           {{ is_measurable('assessments') }} as is_assessments_measurable
)

select
    activity_month,
    {{ when_measurable('is_contacts_measurable', 'contact_count') }}                    as contact_count,
    {{ when_measurable('is_contacts_measurable', 'contact_denominator_count') }}        as contact_denominator_count,
    {{ when_measurable('is_contacts_measurable', 'contact_pending_count') }}            as contact_pending_count,
    {{ when_measurable('is_contacts_measurable', 'contact_decided_within_24h_count') }} as contact_decided_within_24h_count,
    {{ when_measurable('is_contacts_measurable',
       rate('contact_decided_within_24h_count', 'contact_denominator_count')) }}
                                                                                             as contact_decided_within_24h_rate,
    {{ when_measurable('is_referrals_measurable', 'referral_count') }}                  as referral_count,
    {{ when_measurable('is_referrals_measurable', 'referral_nfa_count') }}              as referral_nfa_count,
    {{ when_measurable('is_referrals_measurable',
       rate('referral_nfa_count', 'referral_count')) }}          as referral_nfa_rate,
    {{ when_measurable('is_referrals_measurable', 're_referral_count') }}               as re_referral_count,
    {{ when_measurable('is_referrals_measurable',
       rate('re_referral_count', 'referral_count')) }}           as re_referral_rate,
    {{ when_measurable('is_assessments_measurable', 'assessment_started_count') }}      as assessment_started_count,
    {{ when_measurable('is_assessments_measurable', 'assessment_pending_count') }}      as assessment_pending_count,
    {{ when_measurable('is_assessments_measurable', 'assessment_denominator_count') }}  as assessment_denominator_count,
    {{ when_measurable('is_assessments_measurable', 'assessment_within_45_working_days_count') }}
                                                                                             as assessment_within_45_working_days_count,
    {{ when_measurable('is_assessments_measurable',
       rate('assessment_within_45_working_days_count', 'assessment_denominator_count')) }}
                                                                                             as assessment_within_45_working_days_rate,
    is_contacts_measurable,
    is_referrals_measurable,
    is_assessments_measurable
from monthly cross join measurability
