{#- A local date-time string from a source system as a real instant (timestamptz).
    Elapsed hours between two of these are true hours, across clock changes. -#}
{% macro local_timestamp(column) -%}
    (nullif(trim({{ column }}), '')::timestamp at time zone '{{ var("source_time_zone") }}')
{%- endmacro %}

{#- The batch a staging model reads: the night the run was asked to build
    (var extract_date), or else the latest extract loaded for that feed. -#}
{% macro current_extract(relation) -%}
    {%- if run_extract_date() -%}
        _extract_date = '{{ run_extract_date() }}'::date
    {%- else -%}
        _extract_date = (select max(_extract_date) from {{ relation }})
    {%- endif -%}
{%- endmacro %}

{#- True when `event_at` falls within `hours` real hours after `start_at` (both inclusive).
    Null start or event: false. Used for every "within N hours" statutory rule. -#}
{% macro within_hours(start_at, event_at, hours) -%}
    coalesce({{ event_at }} >= {{ start_at }}
             and {{ event_at }} <= {{ start_at }} + make_interval(hours => {{ hours }}), false)
{%- endmacro %}

{#- Elapsed real hours between two instants, to two decimals. Null when the end is recorded
    before the start: a published mart holds no negative duration (docs/marts.md); the mart's
    flag says why the hours are missing (e.g. offer_before_return). -#}
{% macro hours_between(start_at, end_at) -%}
    (case when {{ end_at }} >= {{ start_at }}
          then round((extract(epoch from ({{ end_at }} - {{ start_at }})) / 3600.0)::numeric, 2) end)
{%- endmacro %}
