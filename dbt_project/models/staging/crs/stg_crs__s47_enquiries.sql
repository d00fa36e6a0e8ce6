with source as (
    select * from {{ source('crs', 'crs__s47_enquiries') }}
    where {{ current_extract(source('crs', 'crs__s47_enquiries')) }}
)

select
    {{ typed('s47_id') }}                                                      as s47_id,
    {{ typed('person_id') }}                                                   as person_id,
    {{ typed('referral_id') }}                                                 as referral_id,
    {{ typed('strategy_discussion_date') }}                                    as strategy_discussion_date,
    {{ typed('icpc_required') }}                                               as is_icpc_required,
    {{ typed('outcome_date') }}                                                as outcome_date,
    _extract_date                                                              as extract_date,
    _row_number                                                                as source_row_number,
    _batch_id                                                                  as batch_id
from source
