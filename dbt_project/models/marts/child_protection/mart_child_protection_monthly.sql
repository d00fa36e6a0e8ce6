{#-
  Child protection measures by month, one row per month. Each measure is dated by its own
  event: s47 enquiries by strategy discussion month, ICPC timeliness by ICPC month, plans
  starting (repeat plans) by start month, plans ending (long plans) by end month.
-#}
with events as (
    select strategy_discussion_month as activity_month,
           1 as s47_count,
           case when never_reached_icpc is not null then 1 else 0 end as s47_outcome_known_count,
           case when never_reached_icpc then 1 else 0 end as s47_never_reached_icpc_count,
           0 as icpc_count, 0 as icpc_within_15_working_days_count,
           0 as plan_started_count, 0 as repeat_plan_count, 0 as plan_ended_count, 0 as plan_ended_2_years_or_more_count
    from {{ ref('mart_child_protection_s47_enquiries') }}
    union all
    select icpc_month, 0, 0, 0, 1, case when icpc_within_15_working_days then 1 else 0 end, 0, 0, 0, 0
    from {{ ref('mart_child_protection_s47_enquiries') }}
    where icpc_date is not null
    union all
    select start_month, 0, 0, 0, 0, 0, 1, case when is_repeat_plan then 1 else 0 end, 0, 0
    from {{ ref('mart_child_protection_plans') }}
    union all
    select end_month, 0, 0, 0, 0, 0, 0, 0, 1, case when lasted_2_years_or_more then 1 else 0 end
    from {{ ref('mart_child_protection_plans') }}
    where end_date is not null
),

monthly as (
    select
        activity_month,
        sum(s47_count)::bigint                          as s47_count,
        sum(s47_outcome_known_count)::bigint            as s47_outcome_known_count,
        sum(s47_never_reached_icpc_count)::bigint       as s47_never_reached_icpc_count,
        sum(icpc_count)::bigint                         as icpc_count,
        sum(icpc_within_15_working_days_count)::bigint  as icpc_within_15_working_days_count,
        sum(plan_started_count)::bigint                 as plan_started_count,
        sum(repeat_plan_count)::bigint                  as repeat_plan_count,
        sum(plan_ended_count)::bigint                   as plan_ended_count,
        sum(plan_ended_2_years_or_more_count)::bigint   as plan_ended_2_years_or_more_count
    from events
    group by activity_month
)

select
    activity_month,
    s47_count,
    s47_outcome_known_count,
    s47_never_reached_icpc_count,
    round(s47_never_reached_icpc_count::numeric / nullif(s47_outcome_known_count, 0), 4) as s47_never_reached_icpc_rate,
    icpc_count,
    icpc_within_15_working_days_count,
    round(icpc_within_15_working_days_count::numeric / nullif(icpc_count, 0), 4)        as icpc_within_15_working_days_rate,
    plan_started_count,
    repeat_plan_count,
    round(repeat_plan_count::numeric / nullif(plan_started_count, 0), 4)                as repeat_plan_rate,
    plan_ended_count,
    plan_ended_2_years_or_more_count,
    round(plan_ended_2_years_or_more_count::numeric / nullif(plan_ended_count, 0), 4)    as plan_ended_2_years_or_more_rate
from monthly
