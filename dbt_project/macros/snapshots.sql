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

{#- Pre-hook of every snapshot (dbt_project.yml): history is recorded night after night, in
    date order, and a snapshot refuses to run where it would write a false one, before it touches
    its table. With hard_deletes: invalidate, a snapshot over no rows closes every open row, as if
    every child had left the case recording system that night; so it refuses
      * under `--empty` (dbt's dry run), where every ref returns no rows. Dry runs leave the
        snapshots out: dbt build --empty --exclude resource_type:snapshot;
      * when the model it snapshots has no rows but the snapshot has open rows (say, a staging
        view a dry run left empty: the next `dbt build` rebuilds it first);
      * for a night older than the latest it holds (a backfill): it would record the old night's
        values as changes made after the newer night's. A backfill leaves snapshots out
        (pipeline/nightly.py does so by itself); re-running the latest night is fine. -#}
{% macro guard_snapshot_history() -%}
    {%- if execute -%}
        {%- set refuse = "Snapshot " ~ this ~ " refused to run " -%}
        {%- if flags.EMPTY -%}
            {{ exceptions.raise_compiler_error(refuse ~ "under --empty: over no rows it would close every open "
                ~ "row of its history (hard_deletes: invalidate). Leave the snapshots out of a dry run: "
                ~ "dbt build --empty --exclude resource_type:snapshot") }}
        {%- endif -%}
        {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
        {%- if existing is not none -%}
            {%- set source_node = graph.nodes[model.depends_on.nodes | first] -%}
            {%- set source = adapter.get_relation(database=source_node.database, schema=source_node.schema,
                                                  identifier=source_node.alias) -%}
            {%- set state = run_query(
                "select max(greatest(dbt_valid_from, dbt_valid_to))::date::text, "
                ~ "exists (select from " ~ existing ~ " where dbt_valid_to is null), "
                ~ ("exists (select from " ~ source ~ ")" if source is not none else "false")
                ~ " from " ~ existing).rows[0] -%}
            {%- set latest, has_open_rows, source_has_rows = state[0], state[1], state[2] -%}
            {%- if has_open_rows and not source_has_rows -%}
                {{ exceptions.raise_compiler_error(refuse ~ "over no rows: " ~ source_node.name ~ " is empty, and "
                    ~ "it would close every open row of its history. Build the model first (dbt build runs it "
                    ~ "before the snapshot), and check tonight's extract of the feed.") }}
            {%- endif -%}
            {%- set night = run_extract_date() -%}
            {%- if night and latest and night < latest -%}
                {{ exceptions.raise_compiler_error(refuse ~ "for " ~ night ~ ": it already holds history up to "
                    ~ latest ~ ", and nights are snapshotted in date order (an older night would be recorded "
                    ~ "as a change after the newer one). Leave the snapshots out of a backfill: "
                    ~ "dbt build --exclude resource_type:snapshot") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
