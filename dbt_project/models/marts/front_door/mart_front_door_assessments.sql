{#-
  One row per children and families assessment, with its due date and whether it was
  authorised within var('assessment_working_days') (45) working days of its start, counted
  as the CIN census validator counts (the start day is day one; macros/working_days.sql).
  Open assessments are outside the denominator; those already past their due date on the
  extract date are flagged overdue.
-#}
with assessments as (
    -- with open_as_at: the extract date matters to the timeliness only while the assessment is open
    {{ assessments_with_timeliness_inputs() }}
),

-- The working-day rules (macros/timeliness.sql), computed incrementally in the memo model
-- int_front_door__assessment_timeliness (macros/incremental_memo.sql)
timeliness as (
    {{ memoised_results('int_front_door__assessment_timeliness', 'assessments',
                        assessment_timeliness_input_columns(), assessment_timeliness_results()) }}
)

select
    {{ pseudonymise('assessments.assessment_id', 'assessment') }} as assessment_key,
    {{ pseudonymise('assessments.person_id', 'person') }}      as person_key,
    assessments.start_date,
    assessments.authorised_date,
    date_trunc('month', assessments.authorised_date)::date as authorised_month,
    assessments.is_pre_birth,
    assessments.team,
    timeliness.due_date,
    timeliness.working_days_to_authorisation,
    assessments.authorised_date is not null            as in_denominator,
    timeliness.authorised_within_45_working_days,
    timeliness.is_open_and_overdue
from assessments
left join timeliness
    on timeliness.input_key = {{ memo_input_key(assessment_timeliness_input_columns(), relation='assessments') }}
