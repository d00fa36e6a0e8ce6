{#- Looked-after children (SSDA903 conventions; docs/marts.md).

    looked_after_on(day): an episode is open on `day` when it started on or before it and
    has not ended, or ended AFTER it. The SSDA903 return's convention: a child whose
    episode ends on 31 March is not looked after at 31 March (the DfE counts children
    looked after "at 31 March" from episodes with no end date or ending after it). -#}
{% macro looked_after_on(day, start_date='start_date', end_date='end_date') -%}
    ({{ start_date }} <= {{ day }} and ({{ end_date }} is null or {{ end_date }} > {{ day }}))
{%- endmacro %}

{#- An episode under an agreed series of short-term placements (short breaks): SSDA903 legal
    status V3 or V4. The DfE's children looked after statistics leave these children out ("numbers
    and percentages exclude children looked after under an agreed series of short term
    placements"), and they do not count towards a care leaver's 13 weeks (CPPCR 2010 reg 40(2)
    and reg 48). -#}
{% macro is_short_break(legal_status='legal_status') -%}
    coalesce({{ legal_status }} in ('V3', 'V4'), false)
{%- endmacro %}

{#- A new period of care starts with an episode whose SSDA903 reason for new episode
    (RNE) is S ("started to be looked after"); every other RNE continues a period. -#}
{% macro starts_period_of_care(reason_new_episode='reason_new_episode') -%}
    coalesce({{ reason_new_episode }} = 'S', false)
{%- endmacro %}

{#- An episode that ended ends the period of care unless its SSDA903 reason for ceasing
    (REC) is X1 ("episode ceases, and new episode begins on same day, for any reason"). -#}
{% macro ends_period_of_care(end_date='end_date', reason_episode_ceased='reason_episode_ceased') -%}
    ({{ end_date }} is not null and coalesce({{ reason_episode_ceased }}, '') <> 'X1')
{%- endmacro %}

{#- Age band on `as_at` in the DfE's looked-after children statistics bands:
    under 1, 1 to 4, 5 to 9, 10 to 15, 16 and over. Ages as macro age_in_years. -#}
{% macro looked_after_age_band(date_of_birth, as_at) -%}
    case
        when {{ date_of_birth }} is null then null
        when {{ age_in_years(date_of_birth, as_at) }} < 1 then 'under 1'
        when {{ age_in_years(date_of_birth, as_at) }} < 5 then '1 to 4'
        when {{ age_in_years(date_of_birth, as_at) }} < 10 then '5 to 9'
        when {{ age_in_years(date_of_birth, as_at) }} < 16 then '10 to 15'
        else '16 and over'
    end
{%- endmacro %}

{#- The looked-after year: the 12 months to the as-at date, from the day after the as-at date a
    year earlier (1 April for 31 March) to the as-at date, both included. -#}
{% macro looked_after_year_start(as_at) -%}
    (({{ as_at }} - interval '12 months')::date + 1)
{%- endmacro %}

{#- An episode that was open at some time in the looked-after year (mart_looked_after_children
    counts it; mart_data_quality_exclusions lists every other episode, with its reason). -#}
{% macro episode_in_looked_after_year(as_at, start_date='start_date', end_date='end_date') -%}
    ({{ start_date }} <= {{ as_at }}
     and ({{ end_date }} is null or {{ end_date }} >= {{ looked_after_year_start(as_at) }}))
{%- endmacro %}
