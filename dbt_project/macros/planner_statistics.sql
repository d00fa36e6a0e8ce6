{#-
  Planner statistics for a table dbt has just built, before any later model reads it.

  PostgreSQL's autovacuum analyzes a new table only after its naptime, so a model that reads a
  table built seconds before is planned without statistics: every column's number of distinct
  values is a default guess. For int_missing__episodes_reconciled that guess chose a nested loop
  comparing every council missing episode with every group of police matches, 289 s of an
  11-borough build against 6 s with statistics (docs/scale.md). ANALYZE samples a fixed number of
  rows (300 x default_statistics_target), so its cost does not grow with the table.

  Run as a post-hook of every model (dbt_project.yml); views have no statistics of their own.
-#}
{% macro analyze_built_table() %}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}
