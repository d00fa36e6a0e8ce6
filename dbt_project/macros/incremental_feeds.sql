{#-
  The current state of an INCREMENTAL feed (extract/feeds.py: snapshot=False).

  Each extract of such a feed holds only the rows changed since the previous one, so
  no single batch is the whole table. The current state is the latest version of
  each key across every batch up to the extract being built (var extract_date; all
  batches when it is empty): the row with the latest source `updated_at`, and on a
  tie the later batch (a corrected re-delivery of the same change).

  Used as the `source` CTE of a staging model:
      with source as ( {{ latest_version_of_each_key(source('crs', 'crs__contacts'), 'contact_id') }} )
-#}
{% macro latest_version_of_each_key(relation, key_column, updated_at_column='updated_at') -%}
    select distinct on (trim({{ key_column }})) *
    from {{ relation }}
    {%- if run_extract_date() %}
    where _extract_date <= '{{ run_extract_date() }}'::date
    {%- endif %}
    order by trim({{ key_column }}),
             nullif(trim({{ updated_at_column }}), '')::timestamp desc nulls last,
             _batch_id desc
{%- endmacro %}
