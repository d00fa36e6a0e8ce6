{#- Generic test: no two rows share the values of `columns` (a table's grain).
    Nulls count as equal, so a grain with a null member is still checked. -#}
{% test unique_grain(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_these_values
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
