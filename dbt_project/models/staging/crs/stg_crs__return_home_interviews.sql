with source as (
    select * from {{ source('crs', 'crs__return_home_interviews') }}
    where {{ current_extract(source('crs', 'crs__return_home_interviews')) }}
)

select
    trim(rhi_id)                          as rhi_id,
    trim(episode_id)                      as episode_id,
    {{ local_timestamp('offered_at') }}   as offered_at,
    {{ local_timestamp('interview_at') }} as interview_at,
    upper(trim(outcome))                  as outcome,
    upper(trim(conducted_by))             as conducted_by,
    _row_number                           as source_row_number,
    _batch_id                             as batch_id
from source
