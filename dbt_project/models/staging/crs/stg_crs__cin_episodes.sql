with source as (
    select * from {{ source('crs', 'crs__cin_episodes') }}
    where {{ current_extract(source('crs', 'crs__cin_episodes')) }}
)

select
    trim(cin_episode_id)                    as cin_episode_id,
    trim(person_id)                         as person_id,
    nullif(trim(referral_id), '')           as referral_id,
    nullif(trim(start_date), '')::date      as start_date,
    nullif(trim(end_date), '')::date        as end_date,
    upper(trim(primary_need))               as primary_need,
    nullif(upper(trim(closure_reason)), '') as closure_reason,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
