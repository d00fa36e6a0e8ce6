{#-
  The safeguarding partnership's scorecard: one row per measure per month, with target
  and RAG status. The measures are data: var scorecard_measures (dbt_project/dbt_project.yml)
  names each one's mart, numerator, denominator, feeds, target and polarity, and the rows
  below are generated from it (docs/marts.md, "Adding a measure"). Partnership-facing, so small counts are suppressed (macros/suppression.sql):
  when a count-based measure's numerator or denominator is 1..var('suppression_threshold'),
  numerator, denominator and value are null and is_suppressed is true; 0 is a true zero.
  FTE-based workforce measures (numerator_unit `fte`) count staff time, not children, and are not
  suppressed. Rows have no totals, so no secondary suppression is needed here.

  RAG (polarity and target from var scorecard_measures):
    HIGHER_IS_BETTER: GREEN value >= target; AMBER value >= target - tolerance; else RED.
    LOWER_IS_BETTER:  GREEN value <= target; AMBER value <= target + tolerance; else RED.
  tolerance = var('scorecard_amber_tolerance'); no value (suppressed or no denominator): no RAG.

  Every timeliness measure counts MET / (MET + MISSED); items still PENDING at the extract
  (macros/pending.sql) are in neither, and their counts are in the monthly marts. Months
  after the extract's month are not reported (only PP01, by month due, could have them).

  NOT MEASURABLE: a measure whose feeds were not delivered for the extract (a council that
  sends only its statutory returns; macros/measurability.sql) has is_measurable false,
  numerator, denominator and value null, and rag_status 'NOT_MEASURABLE', never a false 0
  or RED. The flag comes from the feeds the measure's declaration names (var measure_feeds), the
  same rule that sets the is_<measure>_measurable column of the mart it reads. Workforce measures
  have rows only when the HR feeds were delivered (mart_workforce is empty otherwise).
-#}
{%- set measures = scorecard_measures() %}
with as_at as (
    select {{ extract_as_at(ref('stg_crs__care_leavers')) }} as extract_date
),

-- Names, targets and polarity of each measure (var scorecard_measures).
measures (measure_id, measure_name, measure_group, direction, target, unit) as (
    values
    {%- for m in measures %}
        ({{ sql_text(m.id) }}, {{ sql_text(m.title) }}, {{ sql_text(m.group) }}, {{ sql_text(m.polarity) }},
         {{ m.target }}::numeric, {{ sql_text(m.unit) }}){{ "," if not loop.last }}
    {%- endfor %}
),

-- One select per measure: its numerator and denominator by month, from the mart it reads, and
-- whether its feeds were delivered (macros/measurability.sql).
measure_rows as (
    {%- for m in measures %}
    select {{ sql_text(m.id) }}::text as measure_id, {{ m.month }} as measure_month,
           ({{ m.numerator }})::numeric as numerator, ({{ m.denominator }})::numeric as denominator,
           {{ is_measurable(m.feeds) }} as is_measurable
    from {{ ref(m.mart) }} cross join as_at
    {%- if m.where %}
    where {{ m.where }}
    {%- endif %}
    group by {{ m.month }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

valued as (
    select
        measure_rows.measure_id,
        measures.measure_name,
        measures.measure_group,
        measure_rows.measure_month,
        measures.unit as numerator_unit,
        measures.direction,
        measures.target,
        measure_rows.is_measurable,
        -- A measure that is not measurable has no figures at all (not 0, not suppressed).
        case when measure_rows.is_measurable then measure_rows.numerator end   as numerator,
        case when measure_rows.is_measurable then measure_rows.denominator end as denominator,
        case when measure_rows.is_measurable
             then {{ rate('measure_rows.numerator', 'measure_rows.denominator') }} end as raw_value,
        measure_rows.is_measurable and measures.unit = 'count'
            and ({{ is_small_count('measure_rows.numerator') }} or {{ is_small_count('measure_rows.denominator') }})
            as is_suppressed
    from measure_rows
    join measures using (measure_id)
)

select
    measure_id,
    measure_name,
    measure_group,
    measure_month,
    -- every value is numerator / denominator, a fraction 0..1, whatever the numerator counts
    'proportion'::text                                              as unit,
    numerator_unit,
    direction,
    target::numeric(10, 4)                                          as target,
    case when not is_suppressed then numerator end::numeric(12, 2)  as numerator,
    case when not is_suppressed then denominator end::numeric(12, 2) as denominator,
    case when not is_suppressed then raw_value end::numeric(10, 4)  as value,
    is_suppressed,
    is_measurable,
    case
        when not is_measurable then 'NOT_MEASURABLE'
        when is_suppressed or raw_value is null then null
        when direction = 'HIGHER_IS_BETTER' and raw_value >= target then 'GREEN'
        when direction = 'HIGHER_IS_BETTER' and raw_value >= target - {{ var('scorecard_amber_tolerance') }} then 'AMBER'
        when direction = 'HIGHER_IS_BETTER' then 'RED'
        when raw_value <= target then 'GREEN'
        when raw_value <= target + {{ var('scorecard_amber_tolerance') }} then 'AMBER'
        else 'RED'
    end                                                             as rag_status
from valued
