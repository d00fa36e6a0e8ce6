{#-
  Child protection measures by month, one row per month. Each measure is dated by its own
  event: s47 enquiries and their ICPC timeliness by strategy discussion month (the start of
  the 15-working-day clock; pending ones counted apart, macros/pending.sql), conferences held
  by ICPC month (every conference, with an enquiry or without one), plans starting (repeat
  plans) by start month, plans ending (long plans) by end month.

  A measure whose feeds were not delivered for the extract is not measurable
  (macros/measurability.sql): its counts and rate are null, not 0, and its
  is_<measure>_measurable column is false. ICPC timeliness and "s47s never reaching an
  ICPC" need both the s47 enquiries and the ICPCs: without ICPCs every concluded s47 would
  look as if it never reached one.
-#}
with events as (
    select strategy_discussion_month as activity_month,
           1 as s47_count,
           case when never_reached_icpc is not null then 1 else 0 end as s47_outcome_known_count,
           case when never_reached_icpc then 1 else 0 end as s47_never_reached_icpc_count,
           case when icpc_timeliness_status = 'PENDING' then 1 else 0 end as icpc_timeliness_pending_count,
           case when icpc_timeliness_status in ('MET', 'MISSED') then 1 else 0 end as icpc_timeliness_denominator_count,
           case when icpc_timeliness_status = 'MET' then 1 else 0 end as icpc_within_15_working_days_count,
           0 as icpc_count, 0 as icpc_without_s47_count,
           0 as plan_started_count, 0 as repeat_plan_count, 0 as plan_ended_count, 0 as plan_ended_2_years_or_more_count
    from {{ ref('mart_child_protection_s47_enquiries') }}
    union all
    -- Conferences counted from the conferences, with an enquiry or without one.
    select icpc_month, 0, 0, 0, 0, 0, 0, 1, case when s47_link in ('NO_S47', 'S47_NOT_FOUND') then 1 else 0 end,
           0, 0, 0, 0
    from {{ ref('mart_child_protection_conferences') }}
    union all
    select start_month, 0, 0, 0, 0, 0, 0, 0, 0, 1, case when is_repeat_plan then 1 else 0 end, 0, 0
    from {{ ref('mart_child_protection_plans') }}
    union all
    select end_month, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, case when lasted_2_years_or_more then 1 else 0 end
    from {{ ref('mart_child_protection_plans') }}
    where end_date is not null
),

monthly as (
    select
        activity_month,
        sum(s47_count)::bigint                          as s47_count,
        sum(s47_outcome_known_count)::bigint            as s47_outcome_known_count,
        sum(s47_never_reached_icpc_count)::bigint       as s47_never_reached_icpc_count,
        sum(icpc_timeliness_pending_count)::bigint      as icpc_timeliness_pending_count,
        sum(icpc_timeliness_denominator_count)::bigint  as icpc_timeliness_denominator_count,
        sum(icpc_within_15_working_days_count)::bigint  as icpc_within_15_working_days_count,
        sum(icpc_count)::bigint                         as icpc_count,
        sum(icpc_without_s47_count)::bigint             as icpc_without_s47_count,
        sum(plan_started_count)::bigint                 as plan_started_count,
        sum(repeat_plan_count)::bigint                  as repeat_plan_count,
        sum(plan_ended_count)::bigint                   as plan_ended_count,
        sum(plan_ended_2_years_or_more_count)::bigint   as plan_ended_2_years_or_more_count
    from events
    group by activity_month
),

measurability as (
    select {{ is_measurable('s47') }}      as is_s47_measurable,
           {{ is_measurable('icpc') }}     as is_icpc_measurable,
           {{ is_measurable('conferences') }} as is_conferences_measurable,
           {{ is_measurable('cp_plans') }} as is_cp_plans_measurable
)

select
    activity_month,
    {{ when_measurable('is_s47_measurable', 's47_count') }}                         as s47_count,
    {{ when_measurable('is_icpc_measurable', 's47_outcome_known_count') }}          as s47_outcome_known_count,
    {{ when_measurable('is_icpc_measurable', 's47_never_reached_icpc_count') }}     as s47_never_reached_icpc_count,
    {{ when_measurable('is_icpc_measurable',
       rate('s47_never_reached_icpc_count', 's47_outcome_known_count')) }}
                                                                                    as s47_never_reached_icpc_rate,
    {{ when_measurable('is_conferences_measurable', 'icpc_count') }}                as icpc_count,
    {{ when_measurable('is_conferences_measurable', 'icpc_without_s47_count') }}    as icpc_without_s47_count,
    {{ when_measurable('is_icpc_measurable', 'icpc_timeliness_pending_count') }}    as icpc_timeliness_pending_count,
    {{ when_measurable('is_icpc_measurable', 'icpc_timeliness_denominator_count') }} as icpc_timeliness_denominator_count,
    {{ when_measurable('is_icpc_measurable', 'icpc_within_15_working_days_count') }} as icpc_within_15_working_days_count,
    {{ when_measurable('is_icpc_measurable',
       rate('icpc_within_15_working_days_count', 'icpc_timeliness_denominator_count')) }}
                                                                                    as icpc_within_15_working_days_rate,
    {{ when_measurable('is_cp_plans_measurable', 'plan_started_count') }}           as plan_started_count,
    {{ when_measurable('is_cp_plans_measurable', 'repeat_plan_count') }}            as repeat_plan_count,
    {{ when_measurable('is_cp_plans_measurable',
       rate('repeat_plan_count', 'plan_started_count')) }}   as repeat_plan_rate,
    {{ when_measurable('is_cp_plans_measurable', 'plan_ended_count') }}             as plan_ended_count,
    {{ when_measurable('is_cp_plans_measurable', 'plan_ended_2_years_or_more_count') }} as plan_ended_2_years_or_more_count,
    {{ when_measurable('is_cp_plans_measurable',
       rate('plan_ended_2_years_or_more_count', 'plan_ended_count')) }}
                                                                                    as plan_ended_2_years_or_more_rate,
    is_s47_measurable,
    is_icpc_measurable,
    is_conferences_measurable,
    is_cp_plans_measurable
from monthly cross join measurability
