with source as (
    select * from {{ source('crs', 'crs__care_leavers') }}
    where {{ current_extract(source('crs', 'crs__care_leavers')) }}
)

select
    trim(person_id)                                  as person_id,
    upper(trim(eligibility_category))                as eligibility_category,
    nullif(trim(eligibility_date), '')::date         as eligibility_date,
    nullif(trim(personal_adviser_id), '')            as personal_adviser_id,
    nullif(upper(trim(in_touch)), '')                as in_touch,
    nullif(upper(trim(activity)), '')                as activity,
    nullif(upper(trim(accommodation)), '')           as accommodation,
    upper(trim(in_education)) = 'Y'                  as is_in_higher_education_or_training,
    _extract_date                                    as extract_date,
    _row_number                                      as source_row_number,
    _batch_id                                        as batch_id
from source
