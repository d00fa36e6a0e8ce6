{#-
  One row per worker per workforce month: directly employed workers from the HR month-end
  snapshots, agency workers from the assignments active at month end, with the cases
  allocated to them at month end.

  A worker on two teams in one month counts ONCE, in the team of their month-end record:
    * employees: the HR snapshot row for that month (one per employee and month by key);
    * agency workers: the assignment active on the last day of the month; if two are,
      the one that started last (then the higher assignment id).
  Every case allocated to the worker at month end counts in that team's caseload, whatever
  team the allocation names (a caseload belongs to the worker). A worker who moved
  mid-month is therefore never counted twice, and a move shows from the month it is in
  place at month end.
-#}
with stg_hr__employees as (
    select * from {{ ref('stg_hr__employees') }}
),

stg_agency__assignments as (
    select * from {{ ref('stg_agency__assignments') }}
),

stg_crs__allocations as (
    select * from {{ ref('stg_crs__allocations') }}
),

months as (
    select distinct
        date_trunc('month', snapshot_date)::date                                   as workforce_month,
        (date_trunc('month', snapshot_date) + interval '1 month - 1 day')::date    as month_end_date
    from {{ ref('stg_hr__posts') }}
),

employees as (
    select
        months.workforce_month,
        months.month_end_date,
        'EMPLOYEE'                as worker_type,
        employee.employee_id      as worker_id,
        employee.service_area,
        employee.team,
        employee.role_group,
        employee.fte,
        employee.is_case_holding,
        employee.is_asye,
        -- in post on the month-end date (a last day on the month end still counts)
        {{ active_on('employee.start_date', 'employee.leaving_date', 'months.month_end_date') }} as in_post_at_month_end,
        coalesce(employee.leaving_date between months.workforce_month and months.month_end_date, false) as left_in_month
    from stg_hr__employees as employee
    join months on date_trunc('month', employee.snapshot_date)::date = months.workforce_month
),

agency as (
    select distinct on (months.workforce_month, assignment.worker_id)
        months.workforce_month,
        months.month_end_date,
        'AGENCY'                  as worker_type,
        assignment.worker_id,
        assignment.service_area,
        assignment.team,
        assignment.role_group,
        assignment.fte,
        assignment.is_case_holding,
        false                     as is_asye,
        true                      as in_post_at_month_end,
        false                     as left_in_month
    from months
    join stg_agency__assignments as assignment
        on {{ active_on('assignment.start_date', 'assignment.end_date', 'months.month_end_date') }}
    order by months.workforce_month, assignment.worker_id, assignment.start_date desc, assignment.assignment_id desc
),

workers as (
    select * from employees
    union all
    select * from agency
),

caseloads as (
    select
        months.workforce_month,
        allocation.worker_id,
        count(distinct allocation.person_id) as open_case_count
    from months
    join stg_crs__allocations as allocation
        on {{ active_on('allocation.start_date', 'allocation.end_date', 'months.month_end_date') }}
    group by months.workforce_month, allocation.worker_id
)

select
    workers.*,
    case when workers.in_post_at_month_end then coalesce(caseloads.open_case_count, 0) else 0 end as open_case_count
from workers
left join caseloads
    on caseloads.workforce_month = workers.workforce_month
   and caseloads.worker_id = workers.worker_id
