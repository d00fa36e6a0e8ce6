{#-
  Which feeds each measure needs: declared once, in var measure_feeds (dbt_project/dbt_project.yml,
  beside the scorecard's measures; docs/marts.md, "What a returns-only council gets").

  A council that sends only its statutory returns (SSDA903, CIN census, Ofsted Annex A)
  gets batches of some feeds and none of the others for an extract date. A measure built
  on a feed with no batch would show 0 (no rows) where the truth is "not known": such a
  measure is NOT MEASURABLE. Marts then show its counts and rates as null, say so in a
  boolean column is_<measure>_measurable, and the scorecard gives it the status
  'NOT_MEASURABLE'.

  Each measure names its feeds (extract/feeds.py ids):
    all_of: every one of these feeds must be delivered;
    any_of: at least one of these must be delivered (two sources of the same facts).
  "Delivered" is decided by int_feeds__delivered (a published batch for the extract
  being built, with the semantics of macro current_extract).
-#}
{% macro measure_feed_needs() -%}
    {{ return(var('measure_feeds')) }}
{%- endmacro %}

{#- A boolean SQL expression: is `measure` measurable in this build? Reads
    int_feeds__delivered, so every model that calls it depends on it (and a dbt unit test
    of that model gives int_feeds__delivered's rows: feed, is_delivered). -#}
{% macro is_measurable(measure) -%}
    {%- set needs = measure_feed_needs().get(measure) -%}
    {%- if needs is none -%}
        {{ exceptions.raise_compiler_error("is_measurable: unknown measure '" ~ measure ~ "'; declare it in var measure_feeds (dbt_project/dbt_project.yml)") }}
    {%- endif -%}
    {%- set all_of = needs.get('all_of', []) -%}
    {%- set any_of = needs.get('any_of', []) -%}
    (
    {%- if all_of %}
        (select count(distinct delivered.feed) from (select * from {{ ref('int_feeds__delivered') }}) as delivered
         where delivered.is_delivered and delivered.feed in ('{{ all_of | join("', '") }}')) = {{ all_of | length }}
    {%- endif %}
    {%- if all_of and any_of %} and {% endif %}
    {%- if any_of %}
        exists (select 1 from (select * from {{ ref('int_feeds__delivered') }}) as delivered
                where delivered.is_delivered and delivered.feed in ('{{ any_of | join("', '") }}'))
    {%- endif %}
    )
{%- endmacro %}

{#- `expression` when `measurable_column` is true, else null: a count or rate of a measure
    that is not measurable is unknown, not 0. -#}
{% macro when_measurable(measurable_column, expression) -%}
    case when {{ measurable_column }} then {{ expression }} end
{%- endmacro %}
