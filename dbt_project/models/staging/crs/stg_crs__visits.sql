{#- A table, not a view like the other staging models: finding the latest version of each key
    sorts every batch delivered so far, and the data tests and marts that read this model would
    each repeat that sort on a view (docs/marts.md, "Build time"). -#}
{{ config(materialized='table') }}

{#- Incremental feed: each extract holds only the rows changed since the last one, so the
    current state is the latest version of each key across every batch up to the extract date. -#}
with source as (
    {{ latest_version_of_each_key(source('crs', 'crs__visits'), 'visit_id') }}
)

select
    trim(visit_id)                      as visit_id,
    trim(person_id)                     as person_id,
    trim(worker_id)                     as worker_id,
    nullif(trim(visit_date), '')::date  as visit_date,
    upper(trim(visit_type))             as visit_type,
    upper(trim(seen_alone)) = 'Y'       as is_seen_alone,
    {{ local_timestamp('updated_at') }} as source_updated_at,
    _extract_date                       as extract_date,
    _row_number                         as source_row_number,
    _batch_id                           as batch_id
from source
