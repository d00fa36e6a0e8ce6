{#- True when a dated record is active on `day`: started on or before it and not ended
    before it (an end on `day` itself still counts: the worker was in post, the case held,
    that day). One rule for posts, assignments, allocations and tracker entries. -#}
{% macro active_on(start_column, end_column, day) -%}
    ({{ start_column }} <= {{ day }} and ({{ end_column }} is null or {{ end_column }} >= {{ day }}))
{%- endmacro %}
