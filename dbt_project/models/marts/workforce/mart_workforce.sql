{#-
  Children's social work workforce by month, service area and role group, with totals,
  on the DfE children's social work workforce (CSWW) census definitions (docs/marts.md):

    vacant FTE       = budgeted FTE - employee FTE (negative when over-established: shown)
    vacancy rate     = vacant FTE / budgeted FTE  (= vacant / (vacant + employee))
    agency rate      = agency FTE / (employee FTE + agency FTE)
    turnover rate    = leavers' FTE in the 12 months to the month / employee FTE at month end
    average caseload = open cases allocated to case holders / case-holding FTE

  Total rows: row_level AREA_TOTAL (service area, role_group 'ALL'), ROLE_TOTAL
  (service_area 'ALL', one role group) and GRAND_TOTAL (both 'ALL'). Totals are
  aggregated from the same rows, never summed from rounded rates.
-#}
with int_workforce__worker_months as (
    select * from {{ ref('int_workforce__worker_months') }}
),

months as (
    select distinct workforce_month,
           min(workforce_month) over () as first_month
    from int_workforce__worker_months
),

posts as (
    select
        date_trunc('month', snapshot_date)::date as workforce_month,
        service_area,
        role_group,
        sum(budgeted_fte) as budgeted_fte
    from {{ ref('stg_hr__posts') }}
    group by 1, 2, 3
),

workers_at_month_end as (
    select
        workforce_month,
        service_area,
        role_group,
        sum(fte) filter (where worker_type = 'EMPLOYEE')                    as employee_fte,
        count(*) filter (where worker_type = 'EMPLOYEE')                    as employee_count,
        sum(fte) filter (where worker_type = 'AGENCY')                      as agency_fte,
        count(*) filter (where worker_type = 'AGENCY')                      as agency_worker_count,
        sum(fte) filter (where is_case_holding)                             as case_holding_fte,
        sum(open_case_count) filter (where is_case_holding)                 as open_case_count,
        count(*) filter (where worker_type = 'EMPLOYEE' and is_asye)        as asye_worker_count,
        count(*) filter (where is_asye and open_case_count > {{ var('asye_caseload_cap') }}) as asye_over_cap_count
    from int_workforce__worker_months
    where in_post_at_month_end
    group by 1, 2, 3
),

-- Leavers stay in the HR snapshot of the month they left: count each in that month's
-- area and role, then sum the 12 months to each reporting month.
leavers as (
    select
        months.workforce_month,
        leaver.service_area,
        leaver.role_group,
        sum(leaver.fte)  as leaver_fte_12m,
        count(*)         as leaver_12m_count
    from months
    join int_workforce__worker_months as leaver
        on leaver.left_in_month
       and leaver.workforce_month > months.workforce_month - interval '12 months'
       and leaver.workforce_month <= months.workforce_month
    group by 1, 2, 3
),

contributions as (
    select workforce_month, service_area, role_group, budgeted_fte,
           null::numeric as employee_fte, null::bigint as employee_count, null::numeric as agency_fte,
           null::bigint as agency_worker_count, null::numeric as case_holding_fte, null::numeric as open_case_count,
           null::bigint as asye_worker_count, null::bigint as asye_over_cap_count,
           null::numeric as leaver_fte_12m, null::bigint as leaver_12m_count
    from posts
    union all
    select workforce_month, service_area, role_group, null,
           employee_fte, employee_count, agency_fte, agency_worker_count, case_holding_fte, open_case_count,
           asye_worker_count, asye_over_cap_count, null, null
    from workers_at_month_end
    union all
    select workforce_month, service_area, role_group, null,
           null, null, null, null, null, null, null, null, leaver_fte_12m, leaver_12m_count
    from leavers
),

aggregated as (
    select
        workforce_month,
        case when grouping(service_area) = 1 then 'ALL' else service_area end as service_area,
        case when grouping(role_group) = 1 then 'ALL' else role_group end     as role_group,
        case
            when grouping(service_area) = 1 and grouping(role_group) = 1 then 'GRAND_TOTAL'
            when grouping(role_group) = 1 then 'AREA_TOTAL'
            when grouping(service_area) = 1 then 'ROLE_TOTAL'
            else 'AREA_ROLE'
        end as row_level,
        coalesce(sum(budgeted_fte), 0)        as budgeted_fte,
        coalesce(sum(employee_fte), 0)        as employee_fte,
        coalesce(sum(employee_count), 0)  as employee_count,
        coalesce(sum(agency_fte), 0)          as agency_fte,
        coalesce(sum(agency_worker_count), 0)    as agency_worker_count,
        coalesce(sum(case_holding_fte), 0)    as case_holding_fte,
        coalesce(sum(open_case_count), 0)     as open_case_count,
        coalesce(sum(asye_worker_count), 0)      as asye_worker_count,
        coalesce(sum(asye_over_cap_count), 0) as asye_over_cap_count,
        coalesce(sum(leaver_fte_12m), 0)      as leaver_fte_12m,
        coalesce(sum(leaver_12m_count), 0)    as leaver_12m_count
    from contributions
    group by grouping sets (
        (workforce_month, service_area, role_group),
        (workforce_month, service_area),
        (workforce_month, role_group),
        (workforce_month)
    )
)

select
    aggregated.workforce_month,
    aggregated.service_area,
    aggregated.role_group,
    aggregated.row_level,
    aggregated.row_level <> 'AREA_ROLE'                                            as is_total_row,
    extract(month from aggregated.workforce_month) = {{ var('workforce_census_month') }} as is_census_month,
    aggregated.budgeted_fte::numeric(10, 2)                                        as budgeted_fte,
    aggregated.employee_fte::numeric(10, 2)                                        as employee_fte,
    (aggregated.budgeted_fte - aggregated.employee_fte)::numeric(10, 2)            as vacant_fte,
    {{ rate('aggregated.budgeted_fte - aggregated.employee_fte', 'aggregated.budgeted_fte') }}::numeric(10, 4)
                                                                                   as vacancy_rate,
    aggregated.agency_fte::numeric(10, 2)                                          as agency_fte,
    {{ rate('aggregated.agency_fte', 'aggregated.employee_fte + aggregated.agency_fte') }}::numeric(10, 4)
                                                                                   as agency_rate,
    aggregated.leaver_fte_12m::numeric(10, 2)                                      as leaver_fte_12m,
    {{ rate('aggregated.leaver_fte_12m', 'aggregated.employee_fte') }}::numeric(10, 4) as turnover_rate,
    aggregated.workforce_month - interval '11 months' >= months.first_month        as is_turnover_window_complete,
    aggregated.case_holding_fte::numeric(10, 2)                                    as case_holding_fte,
    aggregated.open_case_count::bigint                                             as open_case_count,
    {{ rate('aggregated.open_case_count', 'aggregated.case_holding_fte', places=2) }}::numeric(10, 2) as average_caseload,
    aggregated.employee_count::bigint                                          as employee_count,
    aggregated.agency_worker_count::bigint                                            as agency_worker_count,
    aggregated.leaver_12m_count::bigint                                            as leaver_12m_count,
    aggregated.asye_worker_count::bigint                                              as asye_worker_count,
    aggregated.asye_over_cap_count::bigint                                         as asye_over_cap_count
from aggregated
join (select distinct first_month from months) as months on true
