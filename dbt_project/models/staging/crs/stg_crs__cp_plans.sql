with source as (
    select * from {{ source('crs', 'crs__cp_plans') }}
    where {{ current_extract(source('crs', 'crs__cp_plans')) }}
)

select
    trim(cp_plan_id)                   as cp_plan_id,
    trim(person_id)                    as person_id,
    nullif(trim(icpc_id), '')          as icpc_id,
    nullif(trim(start_date), '')::date as start_date,
    nullif(trim(end_date), '')::date   as end_date,
    upper(trim(initial_category))      as initial_category,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
