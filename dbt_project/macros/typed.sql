{#- A raw column (text as delivered) cast to what its feed declares (extract/feeds.py, through the
    generated macro feed_columns): the one place a staging model's casts are written.

      text      trim(x); nullif(trim(x), '') when the column may be empty
      code      upper(trim(x)); nullif(upper(trim(x)), '') when it may be empty
      date      nullif(trim(x), '')::date
      number    nullif(trim(x), '')::numeric
      datetime  local_timestamp(x): London local time as an instant (macros/source_time.sql)
      flag      upper(trim(x)) = 'Y'; true, false or null (empty) when it may be empty

    The loader has already quarantined every value that is not of its type or not in its code
    list, so these casts cannot fail. `feed`: the feed id; by default the model's own
    (stg_<source>__<entity> reads <source>__<entity>). A transform beyond the type (NHS numbers
    to digits, postcodes to upper case) is written in the model instead. -#}
{% macro typed(column, feed=none) -%}
    {#- The model being built; in a dbt unit test, the model it tests. -#}
    {%- set model_name = model.tested_node_unique_id.split('.')[-1] if model.resource_type == 'unit_test'
                         else model.name -%}
    {%- set feed = feed or model_name.replace('stg_', '', 1) -%}
    {%- set columns = feed_columns().get(feed) -%}
    {%- if columns is none or column not in columns -%}
        {{ exceptions.raise_compiler_error("typed: no column '" ~ column ~ "' declared for feed '" ~ feed ~ "' in extract/feeds.py") }}
    {%- endif -%}
    {%- set type, required = columns[column] -%}
    {%- if type == 'text' -%}
        {{ "trim(" ~ column ~ ")" if required else "nullif(trim(" ~ column ~ "), '')" }}
    {%- elif type == 'code' -%}
        {{ "upper(trim(" ~ column ~ "))" if required else "nullif(upper(trim(" ~ column ~ ")), '')" }}
    {%- elif type == 'date' -%}
        nullif(trim({{ column }}), '')::date
    {%- elif type == 'number' -%}
        nullif(trim({{ column }}), '')::numeric
    {%- elif type == 'datetime' -%}
        {{ local_timestamp(column) }}
    {%- elif type == 'flag' -%}
        {{ "upper(trim(" ~ column ~ ")) = 'Y'" if required
           else "case upper(trim(" ~ column ~ ")) when 'Y' then true when 'N' then false end" }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("typed: no cast for type '" ~ type ~ "' (column " ~ column ~ " of " ~ feed ~ ")") }}
    {%- endif -%}
{%- endmacro %}
