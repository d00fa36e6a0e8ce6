with source as (
    select * from {{ source('crs', 'crs__people') }}
    where {{ current_extract(source('crs', 'crs__people')) }}
)

select
    trim(person_id)                                  as person_id,
    -- NHS numbers arrive with or without spaces ("943 476 5919"): keep the digits only.
    nullif(regexp_replace(nhs_number, '[^0-9]', '', 'g'), '') as nhs_number,
    nullif(trim(date_of_birth), '')::date            as date_of_birth,
    nullif(trim(expected_date_of_birth), '')::date   as expected_date_of_birth,
    trim(gender)                                     as gender,
    nullif(upper(trim(ethnicity)), '')               as ethnicity,
    upper(trim(uasc)) = 'Y'                          as is_uasc,
    nullif(upper(trim(postcode)), '')                as postcode,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
