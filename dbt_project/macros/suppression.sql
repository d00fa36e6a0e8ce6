{#-
  Small-count suppression for partnership-facing aggregates (docs/rules.md, "Privacy, suppression and retention"; docs/access.md),
  as DfE statistics do: a count from 1 to var('suppression_threshold') (default 5) is suppressed
  (null, with an is_<count>_suppressed flag that BI shows as "c"); 0 is a true zero, always shown.

  is_small_count(x): the primary rule, for one count.

  suppress_small_counts(...): primary AND secondary suppression over a table of cells in groups,
  each group with a total row (is_total_row) that is the sum of its cells. For each count column
  and each group, after the primary rule:
    * if exactly one cell is suppressed, total minus the visible cells would give it away;
    * if two or more are, and together they hold no more than the threshold, the gap
      (total minus the visible cells) is itself a small count, and when it equals the number of
      suppressed cells it tells each one exactly (all ones);
  so in both cases the smallest visible cell above the threshold is suppressed too. Then the
  suppressed cells of a group always number two or more and hold more than the threshold
  together: the reader learns only that sum. (A zero is never chosen: a true zero is shown and
  hiding it protects nothing. If no visible cell is left to choose, every other cell is zero,
  so the total is small and suppressed by the primary rule.) A total row is suppressed by the
  primary rule only, so the same total shown in another table (the scorecard) agrees.
  A rate is suppressed when its numerator or its denominator is.

  Arguments:
    relation      a CTE with the group columns, cell columns, is_total_row and the counts
    group_by      list of columns: one group (e.g. ['report_month'])
    cell_columns  list of columns telling the cells of a group apart (their order breaks ties)
    counts        list of count columns to suppress
    rates         {rate column: [numerator count, denominator count]} computed from the counts
    keep          list of other columns to pass through unchanged (flags, labels)
-#}
{% macro is_small_count(count_expression) -%}
    coalesce(({{ count_expression }}) between 1 and {{ var('suppression_threshold') }}, false)
{%- endmacro %}

{% macro suppress_small_counts(relation, group_by, cell_columns, counts, rates={}, keep=[]) -%}
    {%- set threshold = var('suppression_threshold') -%}
    {%- set group = group_by | join(', ') %}
    {%- set columns = group_by + cell_columns + ['is_total_row'] + keep -%}
    {%- for count in counts -%}
        {%- do columns.append('case when not _suppress_' ~ count ~ ' then ' ~ count ~ ' end as ' ~ count) -%}
        {%- do columns.append('_suppress_' ~ count ~ ' as is_' ~ count ~ '_suppressed') -%}
    {%- endfor -%}
    {%- for rate_column, parts in rates.items() -%}
        {%- do columns.append('case when not (_suppress_' ~ parts[0] ~ ' or _suppress_' ~ parts[1] ~ ') then '
                              ~ rate(parts[0], parts[1]) ~ ' end as ' ~ rate_column) -%}
    {%- endfor %}
    select
        {{ columns | join(',\n        ') }}
    from (
        select *,
            {%- for count in counts %}
            {{ is_small_count(count) }}
            or (coalesce(_rank_{{ count }} = 1, false) and _primary_cells_{{ count }} >= 1
                and (_primary_cells_{{ count }} = 1 or _primary_sum_{{ count }} <= {{ threshold }}))
                as _suppress_{{ count }}{{ "," if not loop.last }}
            {%- endfor %}
        from (
            select *,
                {%- for count in counts %}
                count(*) filter (where not is_total_row and {{ is_small_count(count) }})
                    over (partition by {{ group }}) as _primary_cells_{{ count }},
                coalesce(sum({{ count }}) filter (where not is_total_row and {{ is_small_count(count) }})
                    over (partition by {{ group }}), 0) as _primary_sum_{{ count }},
                -- visible cells above the threshold, smallest first: the candidates for secondary suppression
                case when not is_total_row and coalesce({{ count }}, 0) > {{ threshold }}
                     then row_number() over (partition by {{ group }}, not is_total_row
                                                          and coalesce({{ count }}, 0) > {{ threshold }}
                                             order by {{ ([count] + cell_columns) | join(', ') }}) end as _rank_{{ count }}
                {{- "," if not loop.last }}
                {%- endfor %}
            from {{ relation }}
        ) as ranked
    ) as suppressed
{%- endmacro %}
