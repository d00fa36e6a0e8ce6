{#-
  Small-count suppression for partnership-facing aggregates (domain.md, Privacy), as DfE
  statistics do: a count from 1 to var('suppression_threshold') (default 5) is shown as
  suppressed ("c"); 0 is a true zero and is always shown.

  is_small_count(x): the primary rule, for one count.

  secondary_suppression(...): for a table of cells with a total row in each group
  (e.g. service areas and an ALL row per month). If exactly one cell in a group is
  suppressed, total minus the visible cells would give it away, so the next-smallest
  non-zero visible cell of the same group is suppressed too. (Two suppressed cells are
  enough: the reader learns only their sum. A zero is never chosen, since a true zero
  is shown as zero and hiding it protects nothing.) If the total itself is small it is
  suppressed by the primary rule and every cell of its group is then 0 or small.
-#}
{% macro is_small_count(count_expression) -%}
    coalesce(({{ count_expression }}) between 1 and {{ var('suppression_threshold') }}, false)
{%- endmacro %}

{#- A subquery over `relation` (a CTE name) with its columns plus a boolean column
    `suppress_column`: true where `count_column` is suppressed, primarily or secondarily.
    `group_by`: the group's columns (e.g. 'workforce_month'); the group's total row is the
    one where `cell_column` = `total_value` (e.g. service_area = 'ALL'). Helper columns are
    prefixed with the suppress column's name, so the macro can be applied once per count. -#}
{% macro secondary_suppression(relation, count_column, group_by, cell_column, total_value, suppress_column) -%}
    (
    with cells as (
        select *,
               {{ is_small_count(count_column) }} as _{{ suppress_column }}_primary,
               {{ cell_column }} = '{{ total_value }}' as _{{ suppress_column }}_total,
               -- a visible, non-zero, non-total cell: a candidate for secondary suppression
               not {{ is_small_count(count_column) }} and {{ cell_column }} <> '{{ total_value }}'
                   and coalesce({{ count_column }}, 0) > 0 as _{{ suppress_column }}_candidate
        from {{ relation }}
    ),
    ranked as (
        select *,
               count(*) filter (where _{{ suppress_column }}_primary and not _{{ suppress_column }}_total)
                   over (partition by {{ group_by }}) as _{{ suppress_column }}_primary_cells,
               case when _{{ suppress_column }}_candidate
                    then row_number() over (partition by {{ group_by }}, _{{ suppress_column }}_candidate
                                            order by {{ count_column }}, {{ cell_column }})
               end as _{{ suppress_column }}_rank
        from cells
    )
    select *,
           _{{ suppress_column }}_primary
           or (_{{ suppress_column }}_primary_cells = 1 and coalesce(_{{ suppress_column }}_rank = 1, false))
               as {{ suppress_column }}
    from ranked
    )
{%- endmacro %}
