{#-
  The partnership scorecard's measures: var scorecard_measures (dbt_project/dbt_project.yml), one
  entry per measure, checked here so that a mistake stops the build with the measure's id and
  field named instead of publishing a wrong row. mart_partnership_scorecard generates its rows
  from them (docs/marts.md, "Adding a measure").
-#}
{% macro scorecard_measures() -%}
    {%- set required = ['id', 'title', 'group', 'mart', 'month', 'numerator', 'denominator', 'feeds',
                        'target', 'polarity', 'unit'] -%}
    {%- set measures = var('scorecard_measures') -%}
    {%- set seen = [] -%}
    {%- for m in measures -%}
        {%- set where = "var scorecard_measures, measure " ~ (m.get('id') or loop.index) ~ ": " -%}
        {%- for field in required if m.get(field) is none -%}
            {{ exceptions.raise_compiler_error(where ~ "'" ~ field ~ "' is missing") }}
        {%- endfor -%}
        {%- if m.id in seen -%}
            {{ exceptions.raise_compiler_error(where ~ "the id is declared twice") }}
        {%- endif -%}
        {%- do seen.append(m.id) -%}
        {%- if m.polarity not in ['HIGHER_IS_BETTER', 'LOWER_IS_BETTER'] -%}
            {{ exceptions.raise_compiler_error(where ~ "polarity must be HIGHER_IS_BETTER or LOWER_IS_BETTER, not '" ~ m.polarity ~ "'") }}
        {%- endif -%}
        {%- if m.unit not in ['count', 'fte'] -%}
            {{ exceptions.raise_compiler_error(where ~ "unit must be count or fte, not '" ~ m.unit ~ "'") }}
        {%- endif -%}
        {%- if m.feeds not in var('measure_feeds') -%}
            {{ exceptions.raise_compiler_error(where ~ "feeds '" ~ m.feeds ~ "' is not in var measure_feeds") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(measures) }}
{%- endmacro %}

{#- A text literal for SQL: single quotes doubled. -#}
{% macro sql_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
