{#- Leaving-care rules (pathway plans). The timescales are dbt vars in dbt_project.yml;
    docs/marts.md explains each. -#}

{#- SSDA903 OC3 ACTIV: F* (full time) and P* (part time) codes are education, training or
    employment (F1/P1 higher education, F2/P2 other education, F4/P4 training or employment,
    F5/P5 voluntary work); G4/G5/G6 are not in education, employment or training (illness or
    disability, other reasons, pregnancy or parenting). Anything else (OTH, empty) is unknown: null. -#}
{% macro activity_is_eet(activity) -%}
    case
        when {{ activity }} ~ '^[FP][0-9]$' then true
        when {{ activity }} ~ '^G[0-9]$' then false
    end
{%- endmacro %}

{#- SSDA903 OC3 ACCOM: a letter for the kind of accommodation, then 1 suitable / 2 not
    suitable. "0" (no information) and empty are unknown: null. -#}
{% macro accommodation_is_suitable(accommodation) -%}
    case
        when {{ accommodation }} ~ '^[A-Z]1$' then true
        when {{ accommodation }} ~ '^[A-Z]2$' then false
    end
{%- endmacro %}

{#- SSDA903 OC3 IN_TOUCH: only YES is "in touch" (as in the DfE care leaver statistics).
    NO, REFU (refuses contact), NREQ (no longer requires services), RHOM (returned home),
    DIED are not. Empty is unknown: null. -#}
{% macro council_in_touch(in_touch) -%}
    case when {{ in_touch }} is null then null else {{ in_touch }} = 'YES' end
{%- endmacro %}

{#- `date` plus n calendar months, clamped to the month's last day (30 November + 3 months =
    28 or 29 February), as PostgreSQL's interval arithmetic does. -#}
{% macro add_months(date, months) -%}
    ({{ date }} + make_interval(months => {{ months }}))::date
{%- endmacro %}
