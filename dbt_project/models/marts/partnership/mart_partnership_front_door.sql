{#-
  Front door measures for the safeguarding partnership: mart_front_door_monthly, one row per
  month, with small counts suppressed (macros/suppression.sql). A row per month and no total
  row across months, so each month is its own group: primary suppression, and a rate is
  suppressed with either of its counts. The same counts feed the scorecard (FD01 to FD04).
-#}
with cells as (
    select *, false as is_total_row
    from {{ ref('mart_front_door_monthly') }}
)

{{ suppress_small_counts(
    'cells', group_by=['activity_month'], cell_columns=[],
    counts=['contact_count', 'contact_denominator_count', 'contact_decided_within_24h_count', 'referral_count',
            'referral_nfa_count', 're_referral_count', 'assessment_started_count', 'assessment_denominator_count',
            'assessment_within_45_working_days_count'],
    rates={'contact_decided_within_24h_rate': ['contact_decided_within_24h_count', 'contact_denominator_count'],
           'referral_nfa_rate': ['referral_nfa_count', 'referral_count'],
           're_referral_rate': ['re_referral_count', 'referral_count'],
           'assessment_within_45_working_days_rate': ['assessment_within_45_working_days_count',
                                                      'assessment_denominator_count']},
    keep=['is_contacts_measurable', 'is_referrals_measurable', 'is_assessments_measurable']) }}
