{#-
  Working days in England and Wales: every day except Saturdays, Sundays and the bank
  holidays in the seed `bank_holidays_england_and_wales`, generated from the `holidays`
  package for every year the data can hold (1900 to 2100: python -m warehouse.bank_holidays).
  A rule that meets a date outside it stops with an error naming the date
  (macro bank_holiday_calendar_covers).

  THE counting rule (docs/marts.md, "Working days"), as the DfE's CIN census validator
  counts: the start day is day one, so "within N working days" ends N-1 working days
  after the start. The validator computes the deadline as start + (N-1) business days
  (pandas CustomBusinessDay) and compares dates; to agree with it exactly:
    * the start day is day 1 whatever day of the week it is;
    * each working day after it adds one;
    * an event on a weekend or bank holiday counts as the next working day (a Saturday
      after a Friday deadline is late, as in the validator).
  So within N working days  <=>  working_days_counted(start, event) <= N.

  The macros read the seed directly (not int_calendar__days) so that dbt unit tests of
  the models that use them run against the real holiday list without a fixture.
-#}

{#- True on a working day. `day` is a date expression. -#}
{% macro is_working_day(day) -%}
    (extract(isodow from {{ day }}) < 6
     and not exists (select 1 from (select * from {{ ref('bank_holidays_england_and_wales') }}) as bank_holiday
                     where bank_holiday.holiday_date = ({{ day }})::date))
{%- endmacro %}

{#- True when `day` is null or inside the bank-holiday calendar's years; otherwise the query
    stops with an error that names the date, e.g.
      invalid input syntax for type boolean: "2150-01-05 is outside the England and Wales
      bank-holiday calendar (1900 to 2100) ..."
    rather than count that year's bank holidays as working days. (A cast that cannot succeed
    is how a plain SQL expression raises an error in PostgreSQL; the message carries the
    calendar's bounds from the seed, which also keeps the planner from folding it early.) -#}
{% macro bank_holiday_calendar_covers(day) -%}
    (case
        when ({{ day }}) is null
          or extract(year from ({{ day }})) between (select min(extract(year from holiday_date)) from (select * from {{ ref('bank_holidays_england_and_wales') }}) as calendar_first)
                                               and (select max(extract(year from holiday_date)) from (select * from {{ ref('bank_holidays_england_and_wales') }}) as calendar_last)
        then true
        else (({{ day }})::date::text || ' is outside the England and Wales bank-holiday calendar ('
              || (select min(extract(year from holiday_date)) from (select * from {{ ref('bank_holidays_england_and_wales') }}) as calendar_first)::int
              || ' to '
              || (select max(extract(year from holiday_date)) from (select * from {{ ref('bank_holidays_england_and_wales') }}) as calendar_last)::int
              || '): a working-day rule cannot count it. Correct the date in the source, or extend the calendar '
              || '(warehouse/bank_holidays.py, docs/marts.md "Working days")')::boolean
    end)
{%- endmacro %}

{#- Working days from start_date to end_date, the start day counting as day one (see above).
    Null when either date is null or the end is before the start (a recording error). -#}
{% macro working_days_counted(start_date, end_date) -%}
    (case
        when not ({{ bank_holiday_calendar_covers(start_date) }} and {{ bank_holiday_calendar_covers(end_date) }}) then null
        when ({{ start_date }}) is null or ({{ end_date }}) is null or ({{ end_date }}) < ({{ start_date }}) then null
        when ({{ end_date }}) = ({{ start_date }}) then 1
        else 1
            + (select count(*)::int
               from generate_series(({{ start_date }})::date + 1, ({{ end_date }})::date, interval '1 day') as d(day)
               where {{ is_working_day('d.day') }})
            + case when {{ is_working_day(end_date) }} then 0 else 1 end
    end)
{%- endmacro %}

{#- True when `event_date` is within `n` working days of `start_date` under the rule above;
    false when later, never (null event) or recorded before the start. -#}
{% macro within_working_days(start_date, event_date, n) -%}
    coalesce({{ working_days_counted(start_date, event_date) }} <= {{ n }}, false)
{%- endmacro %}

{#- The last date an event can fall on and still be within `n` working days of start_date:
    the (n-1)th working day after the start (the start itself when n = 1). -#}
{% macro working_day_deadline(start_date, n) -%}
    (case when ({{ start_date }}) is null then null
          when not {{ bank_holiday_calendar_covers(start_date) }} then null
          when {{ n }} <= 1 then ({{ start_date }})::date
          else (select d.day::date
                from generate_series(({{ start_date }})::date + 1, ({{ start_date }})::date + 2 * {{ n }} + 30,
                                     interval '1 day') as d(day)
                where {{ is_working_day('d.day') }}
                order by d.day
                offset {{ n }} - 2 limit 1)
     end)
{%- endmacro %}

{#- Generic test: every date in the column lies within the bank-holiday calendar's years,
    so a working-day count over it is right (the rules themselves stop at such a date:
    bank_holiday_calendar_covers; this test lists every row that has one). -#}
{% test covered_by_bank_holiday_calendar(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and (extract(year from {{ column_name }}) < (select min(extract(year from holiday_date)) from {{ ref('bank_holidays_england_and_wales') }})
           or extract(year from {{ column_name }}) > (select max(extract(year from holiday_date)) from {{ ref('bank_holidays_england_and_wales') }}))
{% endtest %}
