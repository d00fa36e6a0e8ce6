with source as (
    select * from {{ source('crs', 'crs__s47_enquiries') }}
    where {{ current_extract(source('crs', 'crs__s47_enquiries')) }}
)

select
    trim(s47_id)                                                               as s47_id,
    trim(person_id)                                                            as person_id,
    nullif(trim(referral_id), '')                                              as referral_id,
    nullif(trim(strategy_discussion_date), '')::date                           as strategy_discussion_date,
    case upper(trim(icpc_required)) when 'Y' then true when 'N' then false end as is_icpc_required,
    nullif(trim(outcome_date), '')::date                                       as outcome_date,
    _extract_date                                                              as extract_date,
    _row_number                                                                as source_row_number,
    _batch_id                                                                  as batch_id
from source
