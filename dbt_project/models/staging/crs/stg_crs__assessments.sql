with source as (
    select * from {{ source('crs', 'crs__assessments') }}
    where {{ current_extract(source('crs', 'crs__assessments')) }}
)

select
    trim(assessment_id)                     as assessment_id,
    trim(person_id)                         as person_id,
    nullif(trim(referral_id), '')           as referral_id,
    nullif(trim(start_date), '')::date      as start_date,
    nullif(trim(authorised_date), '')::date as authorised_date,
    upper(trim(is_pre_birth)) = 'Y'         as is_pre_birth,
    nullif(trim(team), '')                  as team,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
