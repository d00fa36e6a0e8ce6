with source as (
    select * from {{ source('crs', 'crs__tracker_entries') }}
    where {{ current_extract(source('crs', 'crs__tracker_entries')) }}
)

select
    {{ typed('entry_id') }}            as entry_id,
    {{ typed('person_id') }}           as person_id,
    {{ typed('tracker') }}             as tracker,
    {{ typed('start_date') }}          as start_date,
    {{ typed('end_date') }}            as end_date,
    nullif(upper(trim(raised_by)), '') as raised_by,
    {{ typed('resolved') }}            as is_resolved,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
