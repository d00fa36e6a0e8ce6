{#-
  One row per children and families assessment, with its due date and whether it was
  authorised within var('assessment_working_days') (45) working days of its start, counted
  as the CIN census validator counts (the start day is day one; macros/working_days.sql).
  Open assessments are outside the denominator; those already past their due date on the
  extract date are flagged overdue.
-#}
with assessments as (
    select * from {{ ref('stg_crs__assessments') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__assessments')) }} as extract_date
)

select
    {{ pseudonymise('assessment_id', 'assessment') }}  as assessment_key,
    {{ pseudonymise('person_id', 'person') }}          as person_key,
    start_date,
    authorised_date,
    date_trunc('month', authorised_date)::date         as authorised_month,
    is_pre_birth,
    team,
    {{ working_day_deadline('start_date', var('assessment_working_days')) }} as due_date,
    {{ working_days_counted('start_date', 'authorised_date') }}             as working_days_to_authorisation,
    authorised_date is not null                        as in_denominator,
    case when authorised_date is not null
         then {{ within_working_days('start_date', 'authorised_date', var('assessment_working_days')) }} end
                                                       as authorised_within_45_working_days,
    coalesce(authorised_date is null
             and {{ working_days_counted('start_date', 'as_at.extract_date') }} > {{ var('assessment_working_days') }},
             false)                                    as is_open_and_overdue
from assessments cross join as_at
