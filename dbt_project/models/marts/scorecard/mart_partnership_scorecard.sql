{#-
  The safeguarding partnership's scorecard: one row per measure per month, with target
  and RAG status. Partnership-facing, so small counts are suppressed (macros/suppression.sql):
  when a count-based measure's numerator or denominator is 1..var('suppression_threshold'),
  numerator, denominator and value are null and is_suppressed is true; 0 is a true zero.
  FTE-based workforce measures (numerator_unit `fte`) count staff time, not children, and are not
  suppressed. Rows have no totals, so no secondary suppression is needed here.

  RAG (measure direction and target from seed scorecard_measures):
    HIGHER_IS_BETTER: GREEN value >= target; AMBER value >= target - tolerance; else RED.
    LOWER_IS_BETTER:  GREEN value <= target; AMBER value <= target + tolerance; else RED.
  tolerance = var('scorecard_amber_tolerance'); no value (suppressed or no denominator): no RAG.

  Every timeliness measure counts MET / (MET + MISSED); items still PENDING at the extract
  (macros/pending.sql) are in neither, and their counts are in the monthly marts. Months
  after the extract's month are not reported (only PP01, by month due, could have them).

  NOT MEASURABLE: a measure whose feeds were not delivered for the extract (a council that
  sends only its statutory returns; macros/measurability.sql) has is_measurable false,
  numerator, denominator and value null, and rag_status 'NOT_MEASURABLE', never a false 0
  or RED. Each measure takes its flag from the mart it is computed from. Workforce measures
  have rows only when the HR feeds were delivered (mart_workforce is empty otherwise).
-#}
with scorecard_measures as (
    select * from {{ ref('scorecard_measures') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__care_leavers')) }} as extract_date
),

measure_rows as (
    select 'FD01' as measure_id, activity_month as measure_month,
           contact_decided_within_24h_count::numeric as numerator, contact_denominator_count::numeric as denominator,
           is_contacts_measurable as is_measurable
    from {{ ref('mart_front_door_monthly') }}
    union all
    select 'FD02', activity_month, referral_nfa_count, referral_count, is_referrals_measurable
    from {{ ref('mart_front_door_monthly') }}
    union all
    select 'FD03', activity_month, re_referral_count, referral_count, is_referrals_measurable
    from {{ ref('mart_front_door_monthly') }}
    union all
    select 'FD04', activity_month, assessment_within_45_working_days_count, assessment_denominator_count,
           is_assessments_measurable
    from {{ ref('mart_front_door_monthly') }}
    union all
    select 'CP01', activity_month, icpc_within_15_working_days_count, icpc_timeliness_denominator_count,
           is_icpc_measurable
    from {{ ref('mart_child_protection_monthly') }}
    union all
    select 'CP02', activity_month, s47_never_reached_icpc_count, s47_outcome_known_count, is_icpc_measurable
    from {{ ref('mart_child_protection_monthly') }}
    union all
    select 'CP03', activity_month, plan_ended_2_years_or_more_count, plan_ended_count, is_cp_plans_measurable
    from {{ ref('mart_child_protection_monthly') }}
    union all
    select 'CP04', activity_month, repeat_plan_count, plan_started_count, is_cp_plans_measurable
    from {{ ref('mart_child_protection_monthly') }}
    union all
    -- Workforce rows exist only when the HR feeds were delivered: always measurable here.
    select 'WF01', workforce_month, vacant_fte, budgeted_fte, true from {{ ref('mart_workforce') }}
    where row_level = 'GRAND_TOTAL'
    union all
    select 'WF02', workforce_month, agency_fte, employee_fte + agency_fte, true from {{ ref('mart_workforce') }}
    where row_level = 'GRAND_TOTAL'
    union all
    select 'WF03', workforce_month, leaver_fte_12m, employee_fte, true from {{ ref('mart_workforce') }}
    where row_level = 'GRAND_TOTAL'
    union all
    -- Return home interviews (part A's mart): returned episodes by month of return.
    select 'RHI01', return_month,
           count(*) filter (where offered_within_72h), count(*), bool_and(is_rhi_measurable)
    from {{ ref('mart_return_home_interviews') }}
    where in_denominator
    group by return_month
    union all
    -- Pathway plans (part A's mart): young people whose statutory due date has passed or
    -- who have a plan, by month due. A month after the extract's own month holds only plans
    -- not due yet: it is reported once it has begun (a future month is not a figure to act on).
    select 'PP01', statutory_due_month, sum(statutory_on_time_count), sum(statutory_measured_count),
           bool_and(is_pathway_plan_timeliness_measurable)
    from {{ ref('mart_pathway_plans_monthly') }}
    cross join as_at
    where statutory_due_month is not null
      and (as_at.extract_date is null or statutory_due_month <= date_trunc('month', as_at.extract_date))
    group by statutory_due_month
),

valued as (
    select
        measure_rows.measure_id,
        measures.measure_name,
        measures.measure_group,
        measure_rows.measure_month,
        measures.unit as numerator_unit,
        measures.direction,
        measures.target,
        measure_rows.is_measurable,
        -- A measure that is not measurable has no figures at all (not 0, not suppressed).
        case when measure_rows.is_measurable then measure_rows.numerator end   as numerator,
        case when measure_rows.is_measurable then measure_rows.denominator end as denominator,
        case when measure_rows.is_measurable
             then round(measure_rows.numerator / nullif(measure_rows.denominator, 0), 4) end as raw_value,
        measure_rows.is_measurable and measures.unit = 'count'
            and ({{ is_small_count('measure_rows.numerator') }} or {{ is_small_count('measure_rows.denominator') }})
            as is_suppressed
    from measure_rows
    join scorecard_measures as measures using (measure_id)
)

select
    measure_id,
    measure_name,
    measure_group,
    measure_month,
    -- every value is numerator / denominator, a fraction 0..1, whatever the numerator counts
    'proportion'::text                                              as unit,
    numerator_unit,
    direction,
    target::numeric(10, 4)                                          as target,
    case when not is_suppressed then numerator end::numeric(12, 2)  as numerator,
    case when not is_suppressed then denominator end::numeric(12, 2) as denominator,
    case when not is_suppressed then raw_value end::numeric(10, 4)  as value,
    is_suppressed,
    is_measurable,
    case
        when not is_measurable then 'NOT_MEASURABLE'
        when is_suppressed or raw_value is null then null
        when direction = 'HIGHER_IS_BETTER' and raw_value >= target then 'GREEN'
        when direction = 'HIGHER_IS_BETTER' and raw_value >= target - {{ var('scorecard_amber_tolerance') }} then 'AMBER'
        when direction = 'HIGHER_IS_BETTER' then 'RED'
        when raw_value <= target then 'GREEN'
        when raw_value <= target + {{ var('scorecard_amber_tolerance') }} then 'AMBER'
        else 'RED'
    end                                                             as rag_status
from valued
