{#- Privacy helpers: marts carry month of birth or an age band, never a date of birth. -#}

{#- First day of the month of birth (what regional data pools share instead of the date). -#}
{% macro month_of_birth(date_of_birth) -%}
    date_trunc('month', {{ date_of_birth }})::date
{%- endmacro %}

{#- The n-th birthday. PostgreSQL's `date + interval 'n years'` keeps the day of the month
    and, when that day does not exist, gives the last day of the month: a child born on
    29 February has birthdays on 28 February in non-leap years. This is the one rule used
    everywhere (ages, age bands, the 16th birthday); docs/marts.md says so. -#}
{% macro nth_birthday(date_of_birth, years) -%}
    ({{ date_of_birth }} + make_interval(years => {{ years }}))::date
{%- endmacro %}

{#- Age in whole years on `as_at`, consistent with nth_birthday(): the age goes up on the
    day nth_birthday() gives (so on 28 February for a 29 February birthday). PostgreSQL's
    age() alone would wait until 1 March. -#}
{% macro age_in_years(date_of_birth, as_at) -%}
    (extract(year from age({{ as_at }}, {{ date_of_birth }}))::int
     + case when {{ nth_birthday(date_of_birth, 'extract(year from age(' ~ as_at ~ ', ' ~ date_of_birth ~ '))::int + 1') }}
                 <= {{ as_at }} then 1 else 0 end)
{%- endmacro %}

{#- Age band on `as_at`, in the bands leaving-care duties use:
    under 16, 16-17 (eligible / relevant), 18-20 (former relevant), 21-25 (duties to 25). -#}
{% macro age_band(date_of_birth, as_at) -%}
    case
        when {{ date_of_birth }} is null then null
        when {{ age_in_years(date_of_birth, as_at) }} < 16 then 'under 16'
        when {{ age_in_years(date_of_birth, as_at) }} < 18 then '16-17'
        when {{ age_in_years(date_of_birth, as_at) }} < 21 then '18-20'
        when {{ age_in_years(date_of_birth, as_at) }} <= 25 then '21-25'
        else 'over 25'
    end
{%- endmacro %}
