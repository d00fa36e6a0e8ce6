{#-
  The working-day timeliness rules of the front door and child protection marts, as lists of
  [column, SQL expression] over named input columns. Each rule is written once here and used
  twice: by its memo model in `intermediate` (which computes it only for new or changed inputs,
  macros/incremental_memo.sql) and by the mart's dbt unit tests through memoised_results().
  The counting rules themselves are in macros/working_days.sql.
-#}

{#- Assessments within var('assessment_working_days') (45) working days. Inputs: start_date and
    authorised_date. Whether an open assessment is pending or already late depends on the extract
    date too: the mart decides that with THE pending rule (macros/pending.sql), from due_date. -#}
{% macro assessment_timeliness_input_columns() -%}
    {{ return(['start_date', 'authorised_date']) }}
{%- endmacro %}

{#- The assessments with their rule inputs: every column of stg_crs__assessments plus the
    date the build is as at (as_at_date). The memo model and the mart both read this one
    select, so they compute the same input_key for an assessment. -#}
{% macro assessments_with_timeliness_inputs() -%}
    select assessments.*, as_at.extract_date as as_at_date
    from (select * from {{ ref('stg_crs__assessments') }}) as assessments
    cross join (select {{ extract_as_at(ref('stg_crs__assessments')) }} as extract_date) as as_at
{%- endmacro %}

{% macro assessment_timeliness_results() -%}
    {{ return([
        ['due_date', working_day_deadline('start_date', var('assessment_working_days'))],
        ['working_days_to_authorisation', working_days_counted('start_date', 'authorised_date')],
        ['authorised_within_45_working_days',
         'case when authorised_date is not null then '
         ~ within_working_days('start_date', 'authorised_date', var('assessment_working_days')) ~ ' end'],
    ]) }}
{%- endmacro %}

{#- ICPC within var('icpc_working_days') (15) working days of the strategy discussion. Inputs:
    strategy_discussion_date and the date of the enquiry's first ICPC (null when none). -#}
{% macro icpc_timeliness_input_columns() -%}
    {{ return(['strategy_discussion_date', 'icpc_date']) }}
{%- endmacro %}

{% macro icpc_timeliness_results() -%}
    {{ return([
        ['icpc_due_date', working_day_deadline('strategy_discussion_date', var('icpc_working_days'))],
        ['working_days_to_icpc', working_days_counted('strategy_discussion_date', 'icpc_date')],
        ['icpc_within_15_working_days',
         'case when icpc_date is not null then '
         ~ within_working_days('strategy_discussion_date', 'icpc_date', var('icpc_working_days')) ~ ' end'],
    ]) }}
{%- endmacro %}
