with source as (
    select * from {{ source('crs', 'crs__cin_episodes') }}
    where {{ current_extract(source('crs', 'crs__cin_episodes')) }}
)

select
    {{ typed('cin_episode_id') }}           as cin_episode_id,
    {{ typed('person_id') }}                as person_id,
    {{ typed('referral_id') }}              as referral_id,
    {{ typed('start_date') }}               as start_date,
    {{ typed('end_date') }}                 as end_date,
    {{ typed('primary_need') }}             as primary_need,
    {{ typed('closure_reason') }}           as closure_reason,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
