{#-
  Tracker activity by tracker and month, from the first month any entry started to the
  extract month: entries opened and closed in the month, open at month end (the extract
  date for the current month), and for escalations those unresolved at month end (open on
  the month's last day, and not an open entry already marked resolved) with their average
  and oldest age in days on that day.
-#}
{%- set unresolved_at_month_end -%}
    entries.tracker = 'ESCALATION'
    and {{ active_on('entries.start_date', 'entries.end_date', 'months.month_end_date') }}
    and not (entries.is_resolved and entries.end_date is null)
{%- endset %}

with entries as (
    select * from {{ ref('mart_trackers') }}
),

months as (
    select month_start::date as activity_month,
           least((month_start + interval '1 month - 1 day')::date, max_as_at) as month_end_date
    from (select min(start_month) as first_month, max(as_at_date) as max_as_at from entries) as bounds,
         generate_series(bounds.first_month, bounds.max_as_at, interval '1 month') as m(month_start)
),

trackers as (
    select distinct tracker from entries
),

-- Each entry with the months it can count in: from the month it started to the month it ended
-- (or the last month while open). Outside those months every count below is false for it, so
-- pairing each entry with every month (what this model did) only multiplied the work by the months
-- of history: 32 million pairs for a 33-borough region over ten years.
entry_months as (
    select months.activity_month, months.month_end_date, entries.*
    from entries
    cross join lateral generate_series(
        entries.start_month,
        coalesce(entries.end_month, (select max(activity_month) from months)),
        interval '1 month') as entry_month(month_start)
    join months on months.activity_month = entry_month.month_start::date
)

select
    months.activity_month,
    trackers.tracker,
    count(entries.entry_key) filter (where entries.start_month = months.activity_month)::bigint as opened_count,
    count(entries.entry_key) filter (where entries.end_month = months.activity_month)::bigint   as closed_count,
    count(entries.entry_key) filter (
        where {{ active_on('entries.start_date', 'entries.end_date', 'months.month_end_date') }})::bigint as open_at_month_end_count,
    count(entries.entry_key) filter (where {{ unresolved_at_month_end }})::bigint
                                                                                   as unresolved_escalation_count,
    round(avg(months.month_end_date - entries.start_date) filter (
        where {{ unresolved_at_month_end }}), 1)                    as unresolved_escalation_average_age_days,
    max(months.month_end_date - entries.start_date) filter (
        where {{ unresolved_at_month_end }})                        as unresolved_escalation_oldest_age_days
from months
cross join trackers
left join entry_months as entries
    on entries.activity_month = months.activity_month
   and entries.tracker = trackers.tracker
group by months.activity_month, trackers.tracker
