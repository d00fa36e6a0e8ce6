with source as (
    select * from {{ source('crs', 'crs__missing_episodes') }}
    where {{ current_extract(source('crs', 'crs__missing_episodes')) }}
)

select
    trim(episode_id)                   as episode_id,
    trim(person_id)                    as person_id,
    upper(trim(missing_type))          as missing_type,
    {{ local_timestamp('missing_start') }} as missing_start_at,
    {{ local_timestamp('missing_end') }}   as returned_at,
    upper(trim(looked_after)) = 'Y'    as is_looked_after,
    nullif(trim(team), '')             as team,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
