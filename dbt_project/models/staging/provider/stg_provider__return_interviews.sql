with source as (
    select * from {{ source('provider', 'provider__return_interviews') }}
    where {{ current_extract(source('provider', 'provider__return_interviews')) }}
)

select
    {{ typed('provider_rhi_id') }}                   as provider_rhi_id,
    {{ typed('crs_person_id') }}                     as crs_person_id,
    {{ typed('crs_episode_id') }}                    as crs_episode_id,
    {{ typed('police_notification_id') }}            as police_notification_id,
    {{ typed('referral_received_at') }}              as referral_received_at,
    {{ typed('offered_at') }}                        as offered_at,
    {{ typed('interview_at') }}                      as interview_at,
    {{ typed('outcome') }}                           as outcome,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
