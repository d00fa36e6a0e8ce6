with source as (
    select * from {{ source('crs', 'crs__people') }}
    where {{ current_extract(source('crs', 'crs__people')) }}
)

select
    {{ typed('person_id') }}                         as person_id,
    -- NHS numbers arrive with or without spaces ("943 476 5919"): keep the digits only.
    nullif(regexp_replace(nhs_number, '[^0-9]', '', 'g'), '') as nhs_number,
    {{ typed('date_of_birth') }}                     as date_of_birth,
    {{ typed('expected_date_of_birth') }}            as expected_date_of_birth,
    {{ typed('gender') }}                            as gender,
    {{ typed('ethnicity') }}                         as ethnicity,
    {{ typed('uasc') }}                              as is_uasc,
    nullif(upper(trim(postcode)), '')                as postcode,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
