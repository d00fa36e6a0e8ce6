{#-
  One row per child protection plan.

  * Long plans: a plan that lasted var('cp_plan_long_years') (2) years or more
    (end date on or after the same date two years after the start), as the CIN census
    reports plans ending in the year. Open plans that have already reached two years by
    the extract date are flagged separately.
  * Repeat plans: the child's second or later plan (ordered by start date). With
    var('cp_repeat_plan_within_years') = 0 (default) "ever", as the CIN census counts
    ("subsequent plan"); with N > 0 only when the previous plan ended within N years of
    this one starting.
-#}
with plans as (
    select
        *,
        row_number() over (partition by person_id order by start_date, cp_plan_id) as plan_sequence_number,
        lag(end_date) over (partition by person_id order by start_date, cp_plan_id) as previous_plan_end_date
    from {{ ref('stg_crs__cp_plans') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__cp_plans')) }} as extract_date
)

select
    {{ pseudonymise('cp_plan_id', 'cp_plan') }}               as cp_plan_key,
    {{ pseudonymise('person_id', 'person') }}                 as person_key,
    start_date,
    date_trunc('month', start_date)::date                     as start_month,
    end_date,
    date_trunc('month', end_date)::date                       as end_month,
    initial_category,
    end_date is null                                          as is_open,
    (coalesce(end_date, as_at.extract_date) - start_date)::int as plan_length_days,
    case when end_date is not null
         then end_date >= start_date + interval '{{ var("cp_plan_long_years") }} years' end
                                                              as lasted_2_years_or_more,
    end_date is null and as_at.extract_date >= start_date + interval '{{ var("cp_plan_long_years") }} years'
                                                              as is_open_2_years_or_more,
    plan_sequence_number::int                                 as plan_sequence_number,
    previous_plan_end_date,
    plan_sequence_number > 1
    {%- if var('cp_repeat_plan_within_years') | int > 0 %}
        and coalesce(previous_plan_end_date >= start_date - interval '{{ var("cp_repeat_plan_within_years") }} years', false)
    {%- endif %}                                              as is_repeat_plan
from plans cross join as_at
