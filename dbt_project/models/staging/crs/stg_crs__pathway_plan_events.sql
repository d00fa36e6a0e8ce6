with source as (
    select * from {{ source('crs', 'crs__pathway_plan_events') }}
    where {{ current_extract(source('crs', 'crs__pathway_plan_events')) }}
)

select
    {{ typed('event_id') }}                          as event_id,
    {{ typed('person_id') }}                         as person_id,
    {{ typed('event_type') }}                        as event_type,
    {{ typed('event_date') }}                        as event_date,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
