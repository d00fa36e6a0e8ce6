{#-
  Pathway plan timeliness by the month the statutory plan was due and leaving-care
  category (derived; macros/pending.sql decides what is pending). Each young person in mart_pathway_plans is in exactly one row, so the columns
  add up to the borough's totals. Rates are fractions 0..1 of the young people the measure
  applies to (statutory: due date passed or plan made; practice standard: 16th birthday
  passed or plan made); null when none. Without the plan and review events
  (is_pathway_plan_timeliness_measurable false, e.g. an SSDA903-only council) the
  timeliness counts and rates are null; the OC3 status counts (in touch, EET, suitable
  accommodation, adviser) are still given.
-#}
with young_people as (
    select * from {{ ref('mart_pathway_plans') }}
),

counts as (
    select
        statutory_due_month,
        eligibility_category,
        count(*)                                                    as young_people_count,
        count(*) filter (where statutory_on_time is not null)       as statutory_measured_count,
        count(*) filter (where statutory_status = 'PENDING')        as statutory_pending_count,
        count(*) filter (where statutory_on_time)                   as statutory_on_time_count,
        count(*) filter (where practice_standard_met is not null)   as practice_measured_count,
        count(*) filter (where practice_status = 'PENDING')         as practice_pending_count,
        count(*) filter (where practice_standard_met)               as practice_standard_met_count,
        count(*) filter (where plan_started_before_looked_after)    as plan_before_looked_after_count,
        count(*) filter (where category_check in ('DIFFERS', 'NOT_RECORDED')) as category_mismatch_count,
        count(*) filter (where review_overdue)                      as review_overdue_count,
        count(*) filter (where has_personal_adviser)                as personal_adviser_count,
        count(*) filter (where is_in_touch)                         as in_touch_count,
        count(*) filter (where is_in_education_employment_training) as in_eet_count,
        count(*) filter (where is_accommodation_suitable)           as suitable_accommodation_count
    from young_people
    group by statutory_due_month, eligibility_category
),

measurability as (
    select {{ is_measurable('pathway_plan_timeliness') }} as is_pathway_plan_timeliness_measurable
)

select
    statutory_due_month,
    eligibility_category,
    young_people_count::int                                         as young_people_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'statutory_measured_count::int') }} as statutory_measured_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'statutory_pending_count::int') }} as statutory_pending_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'statutory_on_time_count::int') }} as statutory_on_time_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable',
       rate('statutory_on_time_count', 'statutory_measured_count')) }} as statutory_on_time_rate,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'practice_measured_count::int') }} as practice_measured_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'practice_pending_count::int') }} as practice_pending_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'practice_standard_met_count::int') }} as practice_standard_met_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable',
       rate('practice_standard_met_count', 'practice_measured_count')) }} as practice_standard_met_rate,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'plan_before_looked_after_count::int') }} as plan_before_looked_after_count,
    category_mismatch_count::int                                    as category_mismatch_count,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'review_overdue_count::int') }} as review_overdue_count,
    personal_adviser_count::int                                     as personal_adviser_count,
    in_touch_count::int                                             as in_touch_count,
    in_eet_count::int                                               as in_eet_count,
    suitable_accommodation_count::int                               as suitable_accommodation_count,
    is_pathway_plan_timeliness_measurable
from counts cross join measurability
