{#- Snapshot time = the extract date being built (var extract_date), not the wall clock, so
    dbt_valid_to of a row that disappeared from the extract is the night it disappeared and a
    re-run of the same night changes nothing. Without the var, the wall clock (dbt's default). -#}
{% macro postgres__snapshot_get_time() -%}
    {%- if run_extract_date() -%}
        '{{ run_extract_date() }}'::timestamp
    {%- else -%}
        {{ current_timestamp() }}::timestamp without time zone
    {%- endif -%}
{%- endmacro %}

{#- Rows of a snapshot as they were on `as_at` (a date or timestamp expression):
    select * from {{ ref('snp_crs__people') }} where {{ snapshot_as_at("'2026-09-30'") }} -#}
{% macro snapshot_as_at(as_at) -%}
    (dbt_valid_from <= ({{ as_at }})::timestamp
     and coalesce(dbt_valid_to, 'infinity'::timestamp) > ({{ as_at }})::timestamp)
{%- endmacro %}

{#- Pre-hook of every snapshot (dbt_project.yml). Under `--empty`, dbt's dry run, every ref
    returns no rows, and a snapshot with hard_deletes: invalidate would then close every open
    row of its history, as if every child had left the case recording system that night. So a
    snapshot refuses to run under --empty, before it touches its table; dry runs leave the
    snapshots out: dbt build --empty --exclude resource_type:snapshot. -#}
{% macro refuse_snapshot_over_no_rows() -%}
    {%- if execute and flags.EMPTY -%}
        {{ exceptions.raise_compiler_error(
            "Snapshot " ~ this ~ " refused to run under --empty: over no rows it would close every open "
            ~ "row of its history (hard_deletes: invalidate). Leave the snapshots out of a dry run: "
            ~ "dbt build --empty --exclude resource_type:snapshot") }}
    {%- endif -%}
{%- endmacro %}
