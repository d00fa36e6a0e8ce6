{#-
  The current state of an INCREMENTAL feed (extract/feeds.py: snapshot=False).

  Each extract of such a feed holds only the rows changed since the previous one, so
  no single batch is the whole table. The current state is the latest version of
  each key across every batch up to the extract being built (var extract_date; all
  batches when it is empty): the row with the latest source `updated_at` (as an instant,
  macro local_timestamp, as the staging model stores it), and on a tie the later batch (a
  corrected re-delivery of the same change). `after_extract_date`: only the batches dated
  after it (an incremental staging table's merge, below).

  Used as the `source` CTE of a staging model:
      with source as ( {{ latest_version_of_each_key(source('crs', 'crs__contacts'), 'contact_id') }} )
-#}
{% macro latest_version_of_each_key(relation, key_column, updated_at_column='updated_at', after_extract_date=none) -%}
    select distinct on (trim({{ key_column }})) *
    from {{ relation }}
    where true
    {%- if run_extract_date() %}
      and _extract_date <= '{{ run_extract_date() }}'::date
    {%- endif %}
    {%- if after_extract_date %}
      and _extract_date > '{{ after_extract_date }}'::date
    {%- endif %}
    order by trim({{ key_column }}),
             {{ local_timestamp(updated_at_column) }} desc nulls last,
             _batch_id desc
{%- endmacro %}


{#-
  The staging table of an incremental feed, kept between nights (materialized='incremental',
  delete+insert on the key): each night merges only the batches delivered since, instead of
  sorting every batch ever delivered again (docs/scale.md, "The incremental night").

  The result is exactly the full computation's (latest_version_of_each_key over every batch up to
  the extract date), because a night merges only when that is sure, and otherwise rebuilds:
    * merge: the batches dated after the latest extract date the table holds rows of, up to the
      night built. A row replaces the kept version of its key unless the kept one is later by the
      same order (no_later_version_kept). Merging a batch twice changes nothing.
    * rebuild (empty the table, then insert the whole state): when the night is older than the
      rows the table holds (a backfill), or when a batch dated on or before them arrived after
      they were merged (a corrected re-delivery or a late delivery: its batch id is higher than
      every batch the table holds rows of, as batch ids only grow).
    * `--full-refresh` rebuilds the table the ordinary way.
  incremental_feed_plan decides; the model's SQL and its pre-hook (empty_table_for_rebuild) both
  ask it, and see the same state.
-#}
{% macro incremental_feed_plan(relation) -%}
    {#- A unit test builds the model from its given rows: the full computation. -#}
    {%- if model.resource_type == 'unit_test' or not (execute and is_incremental()) -%}
        {{ return({'merge': false}) }}
    {%- endif -%}
    {%- set night = run_extract_date() -%}
    {%- set decision = run_query(
        "with kept as (select max(extract_date) as last_date, max(batch_id) as last_batch from " ~ this ~ ")
         select case
                    when kept.last_date is null then 'merge'"
                    ~ (" when '" ~ night ~ "'::date < kept.last_date then 'rebuild'" if night else "") ~
                  " when exists (select 1 from " ~ source('extract_layer', 'load_manifest') ~ " m
                                 where m.feed = '" ~ relation.identifier ~ "' and m.status = 'loaded'
                                   and m.extract_date <= kept.last_date and m.batch_id > kept.last_batch)
                         then 'rebuild'
                    else 'merge'
                end,
                kept.last_date::text
         from kept") -%}
    {%- set plan, last_date = decision.rows[0][0], decision.rows[0][1] -%}
    {{ log(this.identifier ~ ": " ~ (("merging the batches after " ~ last_date) if plan == 'merge' and last_date
                                      else plan), info=true) }}
    {{ return({'merge': plan == 'merge', 'rebuild': plan == 'rebuild', 'after_extract_date': last_date}) }}
{%- endmacro %}

{#- The pre-hook of an incremental feed's staging table: empties it when the plan is to rebuild. -#}
{% macro empty_table_for_rebuild(relation) -%}
    {%- if incremental_feed_plan(relation).get('rebuild') -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- In a merge: the staged row (alias `staged`) wins over the version the table keeps of its key
    unless that one is later by latest_version_of_each_key's order (updated_at, nulls last, then
    the batch). -#}
{% macro no_later_version_kept(key_column) -%}
    not exists (
        select 1 from {{ this }} as kept
        where kept.{{ key_column }} = staged.{{ key_column }}
          and ((kept.source_updated_at is not null
                and (staged.source_updated_at is null or kept.source_updated_at > staged.source_updated_at))
               or (kept.source_updated_at is not distinct from staged.source_updated_at
                   and kept.batch_id > staged.batch_id)))
{%- endmacro %}
