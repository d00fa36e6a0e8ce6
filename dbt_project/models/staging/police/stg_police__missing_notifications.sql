with source as (
    select * from {{ source('police', 'police__missing_notifications') }}
    where {{ current_extract(source('police', 'police__missing_notifications')) }}
)

select
    {{ typed('notification_id') }}                   as notification_id,
    {{ typed('police_person_reference') }}           as police_person_reference,
    {{ typed('crs_person_id') }}                     as crs_person_id,
    nullif(regexp_replace(nhs_number, '[^0-9]', '', 'g'), '') as nhs_number,
    {{ typed('date_of_birth') }}                     as date_of_birth,
    {{ typed('reported_missing_at') }}               as reported_missing_at,
    {{ typed('found_at') }}                          as found_at,
    {{ typed('risk_level') }}                        as risk_level,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
