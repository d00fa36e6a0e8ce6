with source as (
    select * from {{ source('agency', 'agency__assignments') }}
    where {{ current_extract(source('agency', 'agency__assignments')) }}
)

select
    trim(assignment_id)                as assignment_id,
    trim(worker_id)                    as worker_id,
    trim(supplier)                     as supplier,
    upper(trim(service_area))          as service_area,
    trim(team)                         as team,
    upper(trim(role_group))            as role_group,
    nullif(trim(fte), '')::numeric     as fte,
    upper(trim(case_holding)) = 'Y'    as is_case_holding,
    nullif(trim(covering_post_id), '') as covering_post_id,
    nullif(trim(start_date), '')::date as start_date,
    nullif(trim(end_date), '')::date   as end_date,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
