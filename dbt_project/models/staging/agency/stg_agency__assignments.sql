with source as (
    select * from {{ source('agency', 'agency__assignments') }}
    where {{ current_extract(source('agency', 'agency__assignments')) }}
)

select
    {{ typed('assignment_id') }}       as assignment_id,
    {{ typed('worker_id') }}           as worker_id,
    {{ typed('supplier') }}            as supplier,
    {{ typed('service_area') }}        as service_area,
    {{ typed('team') }}                as team,
    {{ typed('role_group') }}          as role_group,
    {{ typed('fte') }}                 as fte,
    {{ typed('case_holding') }}        as is_case_holding,
    {{ typed('covering_post_id') }}    as covering_post_id,
    {{ typed('start_date') }}          as start_date,
    {{ typed('end_date') }}            as end_date,
    _extract_date                      as extract_date,
    _row_number                        as source_row_number,
    _batch_id                          as batch_id
from source
