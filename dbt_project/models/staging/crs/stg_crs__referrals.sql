with source as (
    select * from {{ source('crs', 'crs__referrals') }}
    where {{ current_extract(source('crs', 'crs__referrals')) }}
)

select
    trim(referral_id)                     as referral_id,
    trim(person_id)                       as person_id,
    nullif(trim(contact_id), '')          as contact_id,
    nullif(trim(referral_date), '')::date as referral_date,
    upper(trim(referral_source))          as referral_source,
    upper(trim(referral_nfa)) = 'Y'       as is_nfa,
    nullif(trim(team), '')                as team,
    _extract_date                         as extract_date,
    _row_number                           as source_row_number,
    _batch_id                             as batch_id
from source
