with source as (
    select * from {{ source('crs', 'crs__allocations') }}
    where {{ current_extract(source('crs', 'crs__allocations')) }}
)

select
    {{ typed('allocation_id') }}       as allocation_id,
    {{ typed('person_id') }}           as person_id,
    {{ typed('worker_id') }}           as worker_id,
    {{ typed('team') }}                as team,
    {{ typed('start_date') }}          as start_date,
    {{ typed('end_date') }}            as end_date,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
