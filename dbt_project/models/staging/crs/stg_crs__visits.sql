{#- A table kept between nights, not a view like the other staging models: finding the latest version
    of each key sorts every batch delivered so far, so each night merges only the batches delivered
    since, and rebuilds when that would not be exact (macro incremental_feed_plan; docs/scale.md,
    "The incremental night"). The unique index makes the merge's lookups by key cheap. -#}
{{ config(materialized='incremental', unique_key='visit_id', incremental_strategy='delete+insert',
          indexes=[{'columns': ['visit_id'], 'unique': true}],
          pre_hook="{{ empty_table_for_rebuild(source('crs', 'crs__visits')) }}") }}
{%- set plan = incremental_feed_plan(source('crs', 'crs__visits')) %}

{#- Incremental feed: each extract holds only the rows changed since the last one, so the
    current state is the latest version of each key across every batch up to the extract date. -#}
with source as (
    {{ latest_version_of_each_key(source('crs', 'crs__visits'), 'visit_id',
                                  after_extract_date=plan.after_extract_date if plan.merge) }}
),

staged as (
    select
        {{ typed('visit_id') }}             as visit_id,
        {{ typed('person_id') }}            as person_id,
        {{ typed('worker_id') }}            as worker_id,
        {{ typed('visit_date') }}           as visit_date,
        {{ typed('visit_type') }}           as visit_type,
        {{ typed('seen_alone') }}           as is_seen_alone,
        {{ typed('updated_at') }}           as source_updated_at,
        _extract_date                       as extract_date,
        _row_number                         as source_row_number,
        _batch_id                           as batch_id
    from source
)

select * from staged
{%- if plan.merge %}
where {{ no_later_version_kept('visit_id') }}
{%- endif %}
