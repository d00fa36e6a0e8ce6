{#- The date a build describes ("as at"): the extract being built (var extract_date), or
    else the latest extract the given staging model holds. Open items (undecided contacts,
    open plans, unresolved escalations) are aged to this date, never to the wall clock,
    so a rebuild of an old night gives the same figures. -#}
{% macro extract_as_at(staging_relation) -%}
    {%- if run_extract_date() -%}
        '{{ run_extract_date() }}'::date
    {%- else -%}
        (select max(extract_date) from {{ staging_relation }})
    {%- endif -%}
{%- endmacro %}

{#- First day of the month of a timestamptz, in the source's local time zone. -#}
{% macro local_month(timestamp_column) -%}
    date_trunc('month', {{ timestamp_column }} at time zone '{{ var("source_time_zone") }}')::date
{%- endmacro %}
