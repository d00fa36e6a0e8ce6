{#-
  Every date the bank-holiday seed covers (1 January of its first year to 31 December of
  its last), with whether it is a working day in England and Wales and a running
  working-day number. Working days between two dates = difference of their numbers;
  the measures use the macros in macros/working_days.sql, which apply the same
  is_working_day rule (this table is for analysts and BI date tables).
-#}
with bank_holidays_england_and_wales as (
    select * from {{ ref('bank_holidays_england_and_wales') }}
),

bounds as (
    select make_date(min(extract(year from holiday_date))::int, 1, 1)   as first_day,
           make_date(max(extract(year from holiday_date))::int, 12, 31) as last_day
    from bank_holidays_england_and_wales
),

days as (
    select d.day::date as calendar_date
    from bounds, generate_series(bounds.first_day, bounds.last_day, interval '1 day') as d(day)
),

flagged as (
    select
        days.calendar_date,
        extract(isodow from days.calendar_date)::int as iso_day_of_week,
        extract(isodow from days.calendar_date) >= 6 as is_weekend,
        bank_holiday.holiday_date is not null        as is_bank_holiday,
        bank_holiday.holiday_name                    as bank_holiday_name,
        {{ is_working_day('days.calendar_date') }}  as is_working_day
    from days
    left join bank_holidays_england_and_wales as bank_holiday
        on bank_holiday.holiday_date = days.calendar_date
)

select
    calendar_date,
    date_trunc('month', calendar_date)::date as calendar_month,
    iso_day_of_week,
    is_weekend,
    is_bank_holiday,
    bank_holiday_name,
    is_working_day,
    -- working days up to and including this date, counted from the calendar's first day
    (count(*) filter (where is_working_day) over (order by calendar_date))::int as working_day_number
from flagged
