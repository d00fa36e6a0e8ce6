{#-
  Incremental computation of an expensive per-row rule: THE change-detection pattern of the
  nightly build (docs/marts.md, "Incremental build"). Used by the memo models in
  models/intermediate/ (int_*__*_timeliness) and read by the marts.

  Why a memo, and why in `intermediate`: the marts are rebuilt in `marts_build` each night and
  published by renaming that schema (write-audit-publish), so a mart never has last night's
  copy to build on. The `intermediate` schema is never swapped: a model there keeps its rows
  between nights.

  What is stored: one row per distinct combination of a rule's INPUT VALUES (e.g. an
  assessment's start date, authorised date, and the extract date while it is still open),
  keyed by `input_key` = md5 of those values, with the rule's results, and
  `rule_fingerprint` = md5 of the rule's compiled SQL (the macros and the dbt vars it reads,
  e.g. 45 working days) and of the contents of the reference tables it reads (the bank
  holiday seed). A result depends on nothing else, so:
    * a row whose inputs did not change is found by its input_key and its result reused;
    * a new or changed row has a new input_key and is computed;
    * a row that vanished from the source is not in tonight's inputs, so its entry is not
      carried over (the memo is rewritten each night from tonight's inputs: no stale rows);
    * a changed rule (a var, a macro, a bank holiday added) changes the fingerprint, so
      nothing is reused and everything is recomputed;
    * a backfill (an extract date earlier than last night's) is correct too: a result that
      depends on the extract date (an open item's "overdue") has the extract date among its
      inputs, so it is reused only for the very same date;
    * `dbt build --full-refresh` (safeguarding run --full-refresh, the nightly DAG's
      full_refresh param) ignores the previous memo and computes every row.
  Keying on input values rather than the source id also makes duplicate or re-used source
  ids harmless: the result is a pure function of the inputs.

  The memo model is materialized as a table that reads its own previous version while it is
  rebuilt (dbt builds the new table beside the old one, then swaps them), so it holds
  exactly tonight's inputs. `computed_by_invocation_id` records which dbt run computed each
  row: rows reused from an earlier night keep the earlier run's id.
-#}

{#- The key of a row's input values. The same expression in the memo and in the mart that
    looks results up, over columns of the same types, gives the same key. `relation`: the
    alias to qualify the columns with, when the query joins another relation. -#}
{% macro memo_input_key(input_columns, relation=none) -%}
    md5(row(
        {%- for column in input_columns -%}
            {{ relation ~ '.' if relation }}{{ column }}{{ ", " if not loop.last }}
        {%- endfor -%}
    )::text)
{%- endmacro %}

{#- The body of a memo model.
      inputs:              a select giving the input columns (one row per source item; duplicates are fine)
      input_columns:       the names of the columns the results depend on
      results:             list of [column name, SQL expression over the input columns]
      reference_relations: tables the results read besides the inputs (their contents go into the fingerprint) -#}
{% macro memo_model(inputs, input_columns, results, reference_relations=[]) -%}
    {%- set results_sql -%}
        {%- for name, expression in results %}
        {{ expression }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- set memo_columns = ['input_key', 'rule_fingerprint', 'computed_by_invocation_id'] + input_columns
                           + results | map('first') | list -%}
    {%- set previous = memo_previous_version(memo_columns) %}
with current_inputs as (
    select distinct {{ input_columns | join(', ') }}, {{ memo_input_key(input_columns) }} as input_key
    from ({{ inputs }}) as inputs
),

rule as (
    -- the rule's compiled SQL (macros, vars) and the reference data it reads
    select md5('{{ local_md5(results_sql) }}'
        {%- for relation in reference_relations %}
               || (select coalesce(md5(string_agg(reference::text, ',' order by reference::text)), '')
                   from (select * from {{ relation }}) as reference)
        {%- endfor %}) as rule_fingerprint
),

{%- if previous %}

reused as (
    -- last night's results for inputs seen again, computed under the same rule
    select {% for column in memo_columns %}previous.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from {{ previous }} as previous
    join current_inputs using (input_key)
    where previous.rule_fingerprint = (select rule_fingerprint from rule)
),
{%- endif %}

recomputed as (
    select current_inputs.input_key,
           rule.rule_fingerprint,
           '{{ invocation_id }}'::text as computed_by_invocation_id,
           {%- for column in input_columns %}
           current_inputs.{{ column }},
           {%- endfor %}
           {{ results_sql }}
    from current_inputs
    cross join rule
    {%- if previous %}
    where not exists (select 1 from reused where reused.input_key = current_inputs.input_key)
    {%- endif %}
)

select * from recomputed
{%- if previous %}
union all
select * from reused
{%- endif %}
{%- endmacro %}

{#- The memo's previous version to reuse results from: none on a full refresh, on the first
    build, or when its columns are not the ones this version of the model writes. -#}
{% macro memo_previous_version(memo_columns) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if previous is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(previous) | map(attribute='name') | map('lower') | list -%}
    {%- for column in memo_columns -%}
        {%- if column | lower not in existing -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(previous) }}
{%- endmacro %}

{#- In a mart: the results for every row of `rows` (a CTE holding the input columns), as
    (input_key, result columns...). Normally read from the memo model; in a dbt unit test
    computed here from the test's rows with the same SQL, so the unit tests pin the rule
    itself with the inputs they give (the memo's reuse is tested by
    tests/test_dbt_incremental.py against full refreshes). -#}
{% macro memoised_results(memo_model_name, rows, input_columns, results) -%}
    {%- if model.resource_type == 'unit_test' -%}
    select distinct {{ memo_input_key(input_columns) }} as input_key,
        {%- for name, expression in results %}
           {{ expression }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ rows }}
    {%- else -%}
    select input_key, {{ results | map('first') | join(', ') }}
    from {{ ref(memo_model_name) }}
    {%- endif -%}
{%- endmacro %}
