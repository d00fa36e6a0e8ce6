with source as (
    select * from {{ source('crs', 'crs__return_home_interviews') }}
    where {{ current_extract(source('crs', 'crs__return_home_interviews')) }}
)

select
    {{ typed('rhi_id') }}                 as rhi_id,
    {{ typed('episode_id') }}             as episode_id,
    {{ typed('offered_at') }}             as offered_at,
    {{ typed('interview_at') }}           as interview_at,
    {{ typed('outcome') }}                as outcome,
    {{ typed('conducted_by') }}           as conducted_by,
    _row_number                           as source_row_number,
    _batch_id                             as batch_id
from source
