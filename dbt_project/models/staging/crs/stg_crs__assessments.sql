with source as (
    select * from {{ source('crs', 'crs__assessments') }}
    where {{ current_extract(source('crs', 'crs__assessments')) }}
)

select
    {{ typed('assessment_id') }}            as assessment_id,
    {{ typed('person_id') }}                as person_id,
    {{ typed('referral_id') }}              as referral_id,
    {{ typed('start_date') }}               as start_date,
    {{ typed('authorised_date') }}          as authorised_date,
    {{ typed('is_pre_birth') }}             as is_pre_birth,
    {{ typed('team') }}                     as team,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
