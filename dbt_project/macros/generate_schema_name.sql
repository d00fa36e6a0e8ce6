{#- Use the configured schema name as it is (staging, marts_build, ...), not prefixed
    with the target schema: the publish step and the database roles name these schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
