with source as (
    select * from {{ source('provider', 'provider__return_interviews') }}
    where {{ current_extract(source('provider', 'provider__return_interviews')) }}
)

select
    trim(provider_rhi_id)                            as provider_rhi_id,
    trim(crs_person_id)                              as crs_person_id,
    nullif(trim(crs_episode_id), '')                 as crs_episode_id,
    nullif(trim(police_notification_id), '')         as police_notification_id,
    {{ local_timestamp('referral_received_at') }}    as referral_received_at,
    {{ local_timestamp('offered_at') }}              as offered_at,
    {{ local_timestamp('interview_at') }}            as interview_at,
    upper(trim(outcome))                             as outcome,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
