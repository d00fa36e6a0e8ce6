{#-
  Child protection measures for the safeguarding partnership: mart_child_protection_monthly,
  one row per month, with small counts suppressed (macros/suppression.sql). Each month is its
  own group (no total row across months): primary suppression, and a rate is suppressed with
  either of its counts. The same counts feed the scorecard (CP01 to CP04).
-#}
with cells as (
    select *, false as is_total_row
    from {{ ref('mart_child_protection_monthly') }}
)

{{ suppress_small_counts(
    'cells', group_by=['activity_month'], cell_columns=[],
    counts=['s47_count', 's47_outcome_known_count', 's47_never_reached_icpc_count', 'icpc_timeliness_denominator_count',
            'icpc_within_15_working_days_count', 'icpc_count', 'icpc_without_s47_count', 'plan_started_count',
            'repeat_plan_count', 'plan_ended_count', 'plan_ended_2_years_or_more_count'],
    rates={'s47_never_reached_icpc_rate': ['s47_never_reached_icpc_count', 's47_outcome_known_count'],
           'icpc_within_15_working_days_rate': ['icpc_within_15_working_days_count', 'icpc_timeliness_denominator_count'],
           'repeat_plan_rate': ['repeat_plan_count', 'plan_started_count'],
           'plan_ended_2_years_or_more_rate': ['plan_ended_2_years_or_more_count', 'plan_ended_count']},
    keep=['is_s47_measurable', 'is_icpc_measurable', 'is_conferences_measurable', 'is_cp_plans_measurable']) }}
