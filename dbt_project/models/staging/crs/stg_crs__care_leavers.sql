with source as (
    select * from {{ source('crs', 'crs__care_leavers') }}
    where {{ current_extract(source('crs', 'crs__care_leavers')) }}
)

select
    {{ typed('person_id') }}                         as person_id,
    {{ typed('eligibility_category') }}              as eligibility_category,
    {{ typed('eligibility_date') }}                  as eligibility_date,
    {{ typed('personal_adviser_id') }}               as personal_adviser_id,
    {{ typed('in_touch') }}                          as in_touch,
    {{ typed('activity') }}                          as activity,
    {{ typed('accommodation') }}                     as accommodation,
    {{ typed('in_education') }}                      as is_in_higher_education_or_training,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
