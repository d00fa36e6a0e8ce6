with source as (
    select * from {{ source('crs', 'crs__cp_plans') }}
    where {{ current_extract(source('crs', 'crs__cp_plans')) }}
)

select
    {{ typed('cp_plan_id') }}          as cp_plan_id,
    {{ typed('person_id') }}           as person_id,
    {{ typed('icpc_id') }}             as icpc_id,
    {{ typed('start_date') }}          as start_date,
    {{ typed('end_date') }}            as end_date,
    {{ typed('initial_category') }}    as initial_category,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
