{#-
  Pathway plan timeliness for the safeguarding partnership: by the month the statutory plan
  was due and leaving-care category, with a total row per month (is_total_row; category
  'ALL'). Counts from mart_pathway_plans_monthly. Young people with no due month yet are in
  the group whose statutory_due_month is null. The month's total is the scorecard's PP01 row.

  Suppressed as the partnership reads everything (macros/suppression.sql): primary and
  secondary suppression within each month, 0 a true zero.
-#}
with monthly as (
    select * from {{ ref('mart_pathway_plans_monthly') }}
),

cells as (
    select
        statutory_due_month,
        case when grouping(eligibility_category) = 1 then 'ALL'
             else coalesce(eligibility_category, 'NOT_RECORDED') end as eligibility_category,
        grouping(eligibility_category) = 1                            as is_total_row,
        sum(young_people_count)::int                                  as young_people_count,
        sum(statutory_measured_count)::int                            as statutory_measured_count,
        sum(statutory_on_time_count)::int                             as statutory_on_time_count,
        sum(practice_measured_count)::int                             as practice_measured_count,
        sum(practice_standard_met_count)::int                         as practice_standard_met_count,
        sum(review_overdue_count)::int                                as review_overdue_count,
        sum(personal_adviser_count)::int                              as personal_adviser_count,
        sum(in_touch_count)::int                                      as in_touch_count,
        sum(in_eet_count)::int                                        as in_eet_count,
        sum(suitable_accommodation_count)::int                        as suitable_accommodation_count,
        bool_and(is_pathway_plan_timeliness_measurable)               as is_pathway_plan_timeliness_measurable
    from monthly
    group by grouping sets ((statutory_due_month, eligibility_category), (statutory_due_month))
)

{{ suppress_small_counts(
    'cells', group_by=['statutory_due_month'], cell_columns=['eligibility_category'],
    counts=['young_people_count', 'statutory_measured_count', 'statutory_on_time_count', 'practice_measured_count',
            'practice_standard_met_count', 'review_overdue_count', 'personal_adviser_count', 'in_touch_count',
            'in_eet_count', 'suitable_accommodation_count'],
    rates={'statutory_on_time_rate': ['statutory_on_time_count', 'statutory_measured_count'],
           'practice_standard_met_rate': ['practice_standard_met_count', 'practice_measured_count']},
    keep=['is_pathway_plan_timeliness_measurable']) }}
