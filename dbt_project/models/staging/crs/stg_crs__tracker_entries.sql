with source as (
    select * from {{ source('crs', 'crs__tracker_entries') }}
    where {{ current_extract(source('crs', 'crs__tracker_entries')) }}
)

select
    trim(entry_id)                     as entry_id,
    trim(person_id)                    as person_id,
    upper(trim(tracker))               as tracker,
    nullif(trim(start_date), '')::date as start_date,
    nullif(trim(end_date), '')::date   as end_date,
    nullif(upper(trim(raised_by)), '') as raised_by,
    upper(trim(resolved)) = 'Y'        as is_resolved,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
