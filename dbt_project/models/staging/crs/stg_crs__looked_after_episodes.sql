with source as (
    select * from {{ source('crs', 'crs__looked_after_episodes') }}
    where {{ current_extract(source('crs', 'crs__looked_after_episodes')) }}
)

select
    trim(la_episode_id)                              as la_episode_id,
    trim(person_id)                                  as person_id,
    nullif(trim(start_date), '')::date               as start_date,
    nullif(trim(end_date), '')::date                 as end_date,
    upper(trim(reason_new_episode))                  as reason_new_episode,
    upper(trim(legal_status))                        as legal_status,
    upper(trim(placement_type))                      as placement_type,
    nullif(upper(trim(reason_episode_ceased)), '')   as reason_episode_ceased,
    nullif(upper(trim(placement_postcode)), '')      as placement_postcode,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
