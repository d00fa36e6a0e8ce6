with source as (
    select * from {{ source('crs', 'crs__allocations') }}
    where {{ current_extract(source('crs', 'crs__allocations')) }}
)

select
    trim(allocation_id)                as allocation_id,
    trim(person_id)                    as person_id,
    trim(worker_id)                    as worker_id,
    trim(team)                         as team,
    nullif(trim(start_date), '')::date as start_date,
    nullif(trim(end_date), '')::date   as end_date,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
