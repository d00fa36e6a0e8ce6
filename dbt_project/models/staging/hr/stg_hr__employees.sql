with source as (
    select * from {{ source('hr', 'hr__employees') }}
    where {{ current_extract(source('hr', 'hr__employees')) }}
)

select
    {{ typed('snapshot_date') }}            as snapshot_date,
    {{ typed('employee_id') }}              as employee_id,
    {{ typed('post_id') }}                  as post_id,
    {{ typed('service_area') }}             as service_area,
    {{ typed('team') }}                     as team,
    {{ typed('role_group') }}               as role_group,
    {{ typed('fte') }}                      as fte,
    {{ typed('case_holding') }}             as is_case_holding,
    {{ typed('is_asye') }}                  as is_asye,
    {{ typed('start_date') }}               as start_date,
    {{ typed('leaving_date') }}             as leaving_date,
    {{ typed('leaving_reason') }}           as leaving_reason,
    _extract_date                           as extract_date,
    _row_number                             as source_row_number,
    _batch_id                               as batch_id
from source
