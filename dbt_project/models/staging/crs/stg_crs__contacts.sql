{#- A table kept between nights, not a view like the other staging models: finding the latest version
    of each key sorts every batch delivered so far, so each night merges only the batches delivered
    since, and rebuilds when that would not be exact (macro incremental_feed_plan; docs/scale.md,
    "The incremental night"). The unique index makes the merge's lookups by key cheap. -#}
{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='delete+insert',
          indexes=[{'columns': ['contact_id'], 'unique': true}],
          pre_hook="{{ empty_table_for_rebuild(source('crs', 'crs__contacts')) }}") }}
{%- set plan = incremental_feed_plan(source('crs', 'crs__contacts')) %}

{#- Incremental feed: each extract holds only the rows changed since the last one, so the
    current state is the latest version of each key across every batch up to the extract date. -#}
with source as (
    {{ latest_version_of_each_key(source('crs', 'crs__contacts'), 'contact_id',
                                  after_extract_date=plan.after_extract_date if plan.merge) }}
),

staged as (
    select
        {{ typed('contact_id') }}            as contact_id,
        {{ typed('person_id') }}             as person_id,
        {{ typed('contact_at') }}            as contact_at,
        {{ typed('contact_source') }}        as contact_source,
        {{ typed('decision_at') }}           as decision_at,
        {{ typed('decision') }}              as decision,
        {{ typed('updated_at') }}            as source_updated_at,
        _extract_date                        as extract_date,
        _row_number                          as source_row_number,
        _batch_id                            as batch_id
    from source
)

select * from staged
{%- if plan.merge %}
where {{ no_later_version_kept('contact_id') }}
{%- endif %}
