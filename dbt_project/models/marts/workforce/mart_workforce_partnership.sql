{#-
  The partnership-facing workforce table: one row per month and service area plus the
  month's total row (service_area 'ALL'), with small counts of people suppressed.

  Counts of people from 1 to var('suppression_threshold') are suppressed (null, with an
  is_*_suppressed flag; 0 is a true zero), and so is every figure that would reveal
  them (the FTE and rate built on the same people). Secondary suppression
  (macros/suppression.sql): when one service area's count is suppressed in a month, the
  next-smallest non-zero area count of that month is suppressed too, so the total row
  cannot be used to recover it.
-#}
with by_area as (
    select *
    from {{ ref('mart_workforce') }}
    where row_level in ('AREA_TOTAL', 'GRAND_TOTAL')
),

leavers_checked as {{ secondary_suppression('by_area', 'leaver_12m_count', 'workforce_month',
                                            'service_area', 'ALL', 'is_leaver_count_suppressed') }},

agency_checked as {{ secondary_suppression('leavers_checked', 'agency_worker_count', 'workforce_month',
                                           'service_area', 'ALL', 'is_agency_worker_count_suppressed') }},

asye_checked as {{ secondary_suppression('agency_checked', 'asye_over_cap_count', 'workforce_month',
                                         'service_area', 'ALL', 'is_asye_over_cap_suppressed') }}

select
    workforce_month,
    service_area,
    is_total_row,
    is_census_month,
    budgeted_fte,
    employee_fte,
    vacant_fte,
    vacancy_rate,
    case when not is_agency_worker_count_suppressed then agency_worker_count end   as agency_worker_count,
    case when not is_agency_worker_count_suppressed then agency_fte end         as agency_fte,
    case when not is_agency_worker_count_suppressed then agency_rate end        as agency_rate,
    is_agency_worker_count_suppressed,
    case when not is_leaver_count_suppressed then leaver_12m_count end       as leaver_12m_count,
    case when not is_leaver_count_suppressed then leaver_fte_12m end         as leaver_fte_12m,
    case when not is_leaver_count_suppressed then turnover_rate end          as turnover_rate,
    is_leaver_count_suppressed,
    is_turnover_window_complete,
    average_caseload,
    case when not is_asye_over_cap_suppressed then asye_over_cap_count end   as asye_over_cap_count,
    is_asye_over_cap_suppressed
from asye_checked
