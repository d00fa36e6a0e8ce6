{#- Use the configured schema name as it is (staging, marts_build, ...), not prefixed
    with the target schema: the publish step and the database roles name these schemas.

    The nightly docs site is generated after publication (pipeline/nightly.py, document_marts),
    when the marts are in `marts`: with SAFEGUARDING_DOCS_OF_PUBLISHED=1 the marts' schema is
    `marts` (publication/publish.py renames `marts_build` to it), so the site names the tables
    analysts query and shows their columns as published. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = custom_schema_name | trim if custom_schema_name else target.schema -%}
    {%- if schema == 'marts_build' and env_var('SAFEGUARDING_DOCS_OF_PUBLISHED', '') == '1' -%}
        marts
    {%- else -%}
        {{ schema }}
    {%- endif -%}
{%- endmacro %}
