with source as (
    select * from {{ source('crs', 'crs__looked_after_episodes') }}
    where {{ current_extract(source('crs', 'crs__looked_after_episodes')) }}
)

select
    {{ typed('la_episode_id') }}                     as la_episode_id,
    {{ typed('person_id') }}                         as person_id,
    {{ typed('start_date') }}                        as start_date,
    {{ typed('end_date') }}                          as end_date,
    {{ typed('reason_new_episode') }}                as reason_new_episode,
    {{ typed('legal_status') }}                      as legal_status,
    {{ typed('placement_type') }}                    as placement_type,
    {{ typed('reason_episode_ceased') }}             as reason_episode_ceased,
    nullif(upper(trim(placement_postcode)), '')      as placement_postcode,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
