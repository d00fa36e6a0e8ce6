{#-
  One row per children and families assessment, with its due date and whether it was
  authorised within var('assessment_working_days') (45) working days of its start, counted
  as the CIN census validator counts (the start day is day one; macros/working_days.sql).
  Status by THE pending rule (macros/pending.sql): an open assessment whose due date is after
  the extract date is PENDING (outside numerator and denominator); once its due date has
  passed unauthorised it is MISSED (in the denominator, flagged is_open_and_overdue).
  The measure is reported by the month the assessment started (start_month), the month its
  clock started, so an assessment stays in one month whatever happens to it later.
-#}
with assessments as (
    -- with as_at_date: the extract date, which decides whether an open assessment is pending
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
    date_trunc('month', assessments.start_date)::date  as start_month,
    statuses.timeliness_status,
    statuses.timeliness_status in ('MET', 'MISSED')     as in_denominator,
    {{ met_from_status('statuses.timeliness_status') }} as authorised_within_45_working_days,
    assessments.authorised_date is null and statuses.timeliness_status = 'MISSED' as is_open_and_overdue
from assessments
left join timeliness
    on timeliness.input_key = {{ memo_input_key(assessment_timeliness_input_columns(), relation='assessments') }}
cross join lateral (
    -- THE pending rule (macros/pending.sql), with the due date as the deadline
    select {{ timeliness_status('assessments.authorised_date', 'timeliness.authorised_within_45_working_days',
                                'timeliness.due_date', 'assessments.as_at_date', deadline_is_date=true) }}
           as timeliness_status
) as statuses
