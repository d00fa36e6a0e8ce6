with source as (
    select * from {{ source('crs', 'crs__icpcs') }}
    where {{ current_extract(source('crs', 'crs__icpcs')) }}
)

select
    {{ typed('icpc_id') }}              as icpc_id,
    {{ typed('person_id') }}            as person_id,
    {{ typed('s47_id') }}               as s47_id,
    {{ typed('icpc_date') }}            as icpc_date,
    {{ typed('cp_plan_required') }}     as is_cp_plan_required,
    _extract_date                       as extract_date,
    _row_number                         as source_row_number,
    _batch_id                           as batch_id
from source
