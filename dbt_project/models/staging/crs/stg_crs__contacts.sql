{#- A table, not a view like the other staging models: finding the latest version of each key
    sorts every batch delivered so far, and the data tests and marts that read this model would
    each repeat that sort on a view (docs/marts.md, "Build time"). -#}
{{ config(materialized='table') }}

{#- Incremental feed: each extract holds only the rows changed since the last one, so the
    current state is the latest version of each key across every batch up to the extract date. -#}
with source as (
    {{ latest_version_of_each_key(source('crs', 'crs__contacts'), 'contact_id') }}
)

select
    trim(contact_id)                     as contact_id,
    trim(person_id)                      as person_id,
    {{ local_timestamp('contact_at') }}  as contact_at,
    upper(trim(contact_source))          as contact_source,
    {{ local_timestamp('decision_at') }} as decision_at,
    nullif(upper(trim(decision)), '')    as decision,
    {{ local_timestamp('updated_at') }}  as source_updated_at,
    _extract_date                        as extract_date,
    _row_number                          as source_row_number,
    _batch_id                            as batch_id
from source
