{#-
  One row per feed: was a batch delivered for the extract being built?

  The extract being built is var extract_date; when it is empty, each feed's latest
  loaded extract (the semantics of macro current_extract, which the staging models use).
  A feed with no published batch (status 'loaded') for that date is not delivered: its
  staging model reads no rows, and measures built on it are not measurable
  (macros/measurability.sql).

  Feeds: every raw table declared as a dbt source (the feed declarations of
  extract/feeds.py), plus any other feed the manifest names.
-#}
{%- set declared_feeds = [] -%}
{%- if execute -%}
    {%- for node in graph.sources.values() if node.source_name != 'extract_layer' -%}
        {%- do declared_feeds.append(node.name) -%}
    {%- endfor -%}
{%- endif %}

with published as (
    select feed, extract_date, batch_id, rows_loaded
    from {{ ref('stg_extract_layer__load_manifest') }}
    where is_published
),

declared as (
    {%- if declared_feeds %}
    select feed from (values ('{{ declared_feeds | sort | join("'), ('") }}')) as declared_feeds (feed)
    {%- else %}
    select null::text as feed where false
    {%- endif %}
),

feeds as (
    select feed from declared
    union
    select feed from published
),

batch_built as (
    {%- if run_extract_date() %}
    select feed, extract_date, batch_id, rows_loaded
    from published
    where extract_date = '{{ run_extract_date() }}'::date
    {%- else %}
    select distinct on (feed) feed, extract_date, batch_id, rows_loaded
    from published
    order by feed, extract_date desc
    {%- endif %}
)

select
    feeds.feed,
    split_part(feeds.feed, '__', 1)                 as source_system,
    batch_built.batch_id is not null                as is_delivered,
    batch_built.extract_date,
    batch_built.batch_id,
    batch_built.rows_loaded
from feeds
left join batch_built using (feed)
