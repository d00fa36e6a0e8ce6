{#-
  The partnership-facing workforce table: one row per month and service area, plus the
  month's total row (service_area 'ALL', is_total_row true; the BI views put totals apart),
  with small counts of people suppressed.

  Counts of people from 1 to var('suppression_threshold') are suppressed (null, with an
  is_*_suppressed flag; 0 is a true zero), and so is every figure that would reveal them (the
  FTE and rate built on the same people), with secondary suppression across the month's
  service areas so the total row cannot be used to recover a suppressed area
  (macros/suppression.sql). FTE of posts and employees count staff time, not a handful of
  people, and are shown.
-#}
with cells as (
    select
        workforce_month, service_area, row_level = 'GRAND_TOTAL' as is_total_row,
        is_census_month, budgeted_fte, employee_fte, vacant_fte, vacancy_rate,
        agency_worker_count, agency_fte, agency_rate,
        leaver_12m_count, leaver_fte_12m, turnover_rate, is_turnover_window_complete,
        average_caseload, asye_over_cap_count
    from {{ ref('mart_workforce') }}
    where row_level in ('AREA_TOTAL', 'GRAND_TOTAL')
),

suppressed as (
    {{ suppress_small_counts(
        'cells', group_by=['workforce_month'], cell_columns=['service_area'],
        counts=['agency_worker_count', 'leaver_12m_count', 'asye_over_cap_count'],
        keep=['is_census_month', 'budgeted_fte', 'employee_fte', 'vacant_fte', 'vacancy_rate', 'agency_fte',
              'agency_rate', 'leaver_fte_12m', 'turnover_rate', 'is_turnover_window_complete', 'average_caseload']) }}
)

select
    workforce_month,
    service_area,
    is_total_row,
    is_census_month,
    budgeted_fte,
    employee_fte,
    vacant_fte,
    vacancy_rate,
    agency_worker_count,
    case when not is_agency_worker_count_suppressed then agency_fte end   as agency_fte,
    case when not is_agency_worker_count_suppressed then agency_rate end  as agency_rate,
    is_agency_worker_count_suppressed,
    leaver_12m_count,
    case when not is_leaver_12m_count_suppressed then leaver_fte_12m end  as leaver_fte_12m,
    case when not is_leaver_12m_count_suppressed then turnover_rate end   as turnover_rate,
    is_leaver_12m_count_suppressed                                         as is_leaver_count_suppressed,
    is_turnover_window_complete,
    average_caseload,
    asye_over_cap_count,
    is_asye_over_cap_count_suppressed                                      as is_asye_over_cap_suppressed
from suppressed
