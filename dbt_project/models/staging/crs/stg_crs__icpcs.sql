with source as (
    select * from {{ source('crs', 'crs__icpcs') }}
    where {{ current_extract(source('crs', 'crs__icpcs')) }}
)

select
    trim(icpc_id)                       as icpc_id,
    trim(person_id)                     as person_id,
    nullif(trim(s47_id), '')            as s47_id,
    nullif(trim(icpc_date), '')::date   as icpc_date,
    upper(trim(cp_plan_required)) = 'Y' as is_cp_plan_required,
    _extract_date                       as extract_date,
    _row_number                         as source_row_number,
    _batch_id                           as batch_id
from source
