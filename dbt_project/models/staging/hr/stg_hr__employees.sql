with source as (
    select * from {{ source('hr', 'hr__employees') }}
    where {{ current_extract(source('hr', 'hr__employees')) }}
)

select
    nullif(trim(snapshot_date), '')::date   as snapshot_date,
    trim(employee_id)                       as employee_id,
    nullif(trim(post_id), '')               as post_id,
    upper(trim(service_area))               as service_area,
    trim(team)                              as team,
    upper(trim(role_group))                 as role_group,
    nullif(trim(fte), '')::numeric          as fte,
    upper(trim(case_holding)) = 'Y'         as is_case_holding,
    upper(trim(is_asye)) = 'Y'              as is_asye,
    nullif(trim(start_date), '')::date      as start_date,
    nullif(trim(leaving_date), '')::date    as leaving_date,
    nullif(upper(trim(leaving_reason)), '') as leaving_reason,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
