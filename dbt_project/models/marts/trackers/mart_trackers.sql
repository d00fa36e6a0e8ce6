{#-
  One row per entry on the improvement plan's trackers (unborn, MASE, edge of care,
  missing, s47 to ICPC, return home from s20, escalations by CP chairs and IROs), with
  its age: days from start to close, or to the extract date while open.

  Escalations (raised by conference chairs and IROs) are unresolved from the day they are
  raised until their entry is closed as resolved. An open escalation is unresolved (unless
  already marked resolved); one closed with resolved = N was closed without resolution and
  is flagged separately: it is no longer live, but the board wants to see it.
-#}
with entries as (
    select * from {{ ref('stg_crs__tracker_entries') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__tracker_entries')) }} as extract_date
)

select
    {{ pseudonymise('entry_id', 'tracker_entry') }}            as entry_key,
    {{ pseudonymise('person_id', 'person') }}                  as person_key,
    tracker,
    start_date,
    date_trunc('month', start_date)::date                      as start_month,
    end_date,
    date_trunc('month', end_date)::date                        as end_month,
    end_date is null                                           as is_open,
    raised_by,
    is_resolved,
    tracker = 'ESCALATION' and end_date is null and not is_resolved     as is_unresolved_escalation,
    tracker = 'ESCALATION' and end_date is not null and not is_resolved as is_closed_without_resolution,
    (coalesce(end_date, as_at.extract_date) - start_date)::int as age_days,
    as_at.extract_date                                         as as_at_date
from entries cross join as_at
