with source as (
    select * from {{ source('crs', 'crs__missing_episodes') }}
    where {{ current_extract(source('crs', 'crs__missing_episodes')) }}
)

select
    {{ typed('episode_id') }}          as episode_id,
    {{ typed('person_id') }}           as person_id,
    {{ typed('missing_type') }}        as missing_type,
    {{ typed('missing_start') }}           as missing_start_at,
    {{ typed('missing_end') }}             as returned_at,
    {{ typed('looked_after') }}        as is_looked_after,
    nullif(trim(team), '')             as team,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
