{#- Generic test: no two rows share the same values of `columns` (a composite key such as
    snapshot_date + employee_id). dbt_utils is not installable here, so the project has its own. -#}
{% test unique_combination_of_columns(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
