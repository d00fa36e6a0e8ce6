with source as (
    select * from {{ source('crs', 'crs__referrals') }}
    where {{ current_extract(source('crs', 'crs__referrals')) }}
)

select
    {{ typed('referral_id') }}            as referral_id,
    {{ typed('person_id') }}              as person_id,
    {{ typed('contact_id') }}             as contact_id,
    {{ typed('referral_date') }}          as referral_date,
    {{ typed('referral_source') }}        as referral_source,
    {{ typed('referral_nfa') }}           as is_nfa,
    {{ typed('team') }}                   as team,
    _extract_date                         as extract_date,
    _row_number                           as source_row_number,
    _batch_id                             as batch_id
from source
