{#-
  The date dimension for BI tools: one row per day of the years the bank-holiday seed covers,
  from int_calendar__days (working days as the measures count them, macros/working_days.sql),
  with the labels dashboards group and sort by: month, quarter, and the financial year the
  DfE returns use (1 April to 31 March). Join any mart's date or month column to
  calendar_date (months are dated by their first day, so calendar_month joins too).
-#}
with int_calendar__days as (
    select * from {{ ref('int_calendar__days') }}
)

select
    calendar_date,
    calendar_month,
    extract(year from calendar_date)::int                                        as calendar_year,
    extract(month from calendar_date)::int                                       as month_number,
    trim(to_char(calendar_date, 'Month'))                                        as month_name,
    to_char(calendar_date, 'Mon YYYY')                                           as month_label,
    extract(quarter from calendar_date)::int                                     as calendar_quarter,
    -- the financial year starts on 1 April: 2026-27 runs from 1 April 2026 to 31 March 2027
    make_date((extract(year from calendar_date) - case when extract(month from calendar_date) < 4 then 1 else 0 end)::int,
              4, 1)                                                              as financial_year_start,
    to_char(calendar_date - interval '3 months', 'YYYY') || '-'
        || to_char(calendar_date + interval '9 months', 'YY')                    as financial_year,
    iso_day_of_week,
    trim(to_char(calendar_date, 'Day'))                                          as day_name,
    is_weekend,
    is_bank_holiday,
    bank_holiday_name,
    is_working_day,
    working_day_number,
    calendar_date = (calendar_month + interval '1 month - 1 day')::date         as is_month_end
from int_calendar__days
