with source as (
    select * from {{ source('hr', 'hr__posts') }}
    where {{ current_extract(source('hr', 'hr__posts')) }}
)

select
    nullif(trim(snapshot_date), '')::date   as snapshot_date,
    trim(post_id)                           as post_id,
    upper(trim(service_area))               as service_area,
    trim(team)                              as team,
    upper(trim(role_group))                 as role_group,
    trim(role)                              as role,
    nullif(trim(budgeted_fte), '')::numeric as budgeted_fte,
    upper(trim(case_holding)) = 'Y'         as is_case_holding,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
