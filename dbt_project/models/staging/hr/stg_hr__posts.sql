with source as (
    select * from {{ source('hr', 'hr__posts') }}
    where {{ current_extract(source('hr', 'hr__posts')) }}
)

select
    {{ typed('snapshot_date') }}            as snapshot_date,
    {{ typed('post_id') }}                  as post_id,
    {{ typed('service_area') }}             as service_area,
    {{ typed('team') }}                     as team,
    {{ typed('role_group') }}               as role_group,
    {{ typed('role') }}                     as role,
    {{ typed('budgeted_fte') }}             as budgeted_fte,
    {{ typed('case_holding') }}             as is_case_holding,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
