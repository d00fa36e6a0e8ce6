{#-
  The extract date a run builds: var `extract_date` when given (--vars, a unit test's override),
  else the environment variable SAFEGUARDING_EXTRACT_DATE, which the pipeline sets
  (warehouse/dbt.py), else '' (each feed's latest extract).

  Why an environment variable: dbt starts parsing the whole project again whenever a --vars
  value differs from the previous run's, and the extract date differs every night (a full parse
  is 9 to 17 s of a borough night on two cores). The variable is read only when a node runs
  (`execute`), never while parsing, so dbt's partial-parse cache stays valid from one night to
  the next (bench/results/dbt_incremental.md, "Partial parsing kept between nights").
-#}
{% macro run_extract_date() -%}
    {%- if var('extract_date') -%}
        {{ return(var('extract_date')) }}
    {%- elif execute -%}
        {{ return(env_var('SAFEGUARDING_EXTRACT_DATE', '')) }}
    {%- else -%}
        {{ return('') }}
    {%- endif -%}
{%- endmacro %}
