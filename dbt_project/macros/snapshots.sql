{#- Snapshot time = the extract date being built (var extract_date), not the wall clock, so
    dbt_valid_to of a row that disappeared from the extract is the night it disappeared and a
    re-run of the same night changes nothing. Without the var, the wall clock (dbt's default). -#}
{% macro postgres__snapshot_get_time() -%}
    {%- if run_extract_date() -%}
        '{{ run_extract_date() }}'::timestamp
    {%- else -%}
        {{ current_timestamp() }}::timestamp without time zone
    {%- endif -%}
{%- endmacro %}

{#- Rows of a snapshot as they were on `as_at` (a date or timestamp expression):
    select * from {{ ref('snp_crs__people') }} where {{ snapshot_as_at("'2026-09-30'") }} -#}
{% macro snapshot_as_at(as_at) -%}
    (dbt_valid_from <= ({{ as_at }})::timestamp
     and coalesce(dbt_valid_to, 'infinity'::timestamp) > ({{ as_at }})::timestamp)
{%- endmacro %}
