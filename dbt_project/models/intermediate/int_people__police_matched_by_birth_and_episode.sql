{#-
  Police notifications that carry no council person id, matched to a council child by the date
  of birth AND a council missing episode of that child at the same time (macro
  police_notification_matches_episode), when exactly one council child fits both. One row per
  matched notification. Date of birth alone is never enough, and it is tried only for a
  notification with no identifier at all (neither a council id nor an NHS number).

  Why a model of its own (not a step of the spine's query): its row count is known to the planner
  when the spine joins it. Inside the spine, the planner estimated one row after the HAVING and
  compared every notification with every match (a nested loop: 8 of the spine's 10 s at three
  boroughs, growing with the square of the region).
-#}
{%- set match_tolerance = "interval '1 hour' * " ~ var('missing_match_tolerance_hours') -%}
{%- set longest_listed_window = "interval '7 days'" -%}
with stg_police__missing_notifications as (
    select * from {{ ref('stg_police__missing_notifications') }}
),

stg_crs__people as (
    select * from {{ ref('stg_crs__people') }}
),

-- Council missing episodes, one per event: a duplicate record (same child, same start) is no
-- episode (docs/marts.md, "One event, one row"); an open copy of a returned absence would
-- otherwise fit every later notification with the child's date of birth.
int_missing__council_episodes as (
    select * from {{ ref('int_missing__council_episodes') }}
    where not is_duplicate
),

notifications as (
    select
        notification_id,
        date_of_birth,
        reported_missing_at,
        found_at,
        -- The notification's window (no end while the child is still missing: open for ever).
        reported_missing_at                                        as window_start,
        case when found_at is not null then greatest(found_at, reported_missing_at) end as window_end
    from stg_police__missing_notifications
    -- No identifier at all: a council id or NHS number the council does not know is a problem to
    -- report, not to guess past.
    where crs_person_id is null
      and nhs_number is null
      and date_of_birth is not null
      and reported_missing_at is not null
),

council_episodes as (
    select
        e.person_id,
        people.date_of_birth,
        e.missing_start_at,
        e.returned_at,
        -- The episode's window widened by the tolerance either side (no return: open for ever).
        e.missing_start_at - {{ match_tolerance }}                 as window_start,
        case when e.returned_at is not null
             then greatest(e.returned_at, e.missing_start_at) + {{ match_tolerance }} end as window_end
    from int_missing__council_episodes e
    join stg_crs__people people on people.person_id = e.person_id
    where people.date_of_birth is not null
      and e.missing_start_at is not null
),

-- Blocking. Hundreds of a region's children share any one birthday, so pairing each notification
-- with every episode of every child born that day grows with the square of the region. But a
-- notification can only match an episode whose widened window overlaps its own (both of the
-- macro's rules imply it: docs/scale.md, "The person spine"), and two overlapping windows share a
-- calendar day. So each window is listed once per day it covers, and only a notification and an
-- episode of the same date of birth on the same day are candidates: a handful, whatever the
-- region's size. A window that is open, or longer than a week, is too long to list by day; the
-- few such are paired by date of birth alone. Either way the macro then decides, as before.
notification_days as (
    select n.*, n.window_start::date + day_number as day
    from notifications n
    cross join lateral generate_series(0, n.window_end::date - n.window_start::date) as day_number
    where n.window_end < n.window_start + {{ longest_listed_window }}
),

episode_days as (
    select e.*, e.window_start::date + day_number as day
    from council_episodes e
    cross join lateral generate_series(0, e.window_end::date - e.window_start::date) as day_number
    where e.window_end < e.window_start + {{ longest_listed_window }}
),

long_notifications as (
    select * from notifications
    where not coalesce(window_end < window_start + {{ longest_listed_window }}, false)
),

long_episodes as (
    select * from council_episodes
    where not coalesce(window_end < window_start + {{ longest_listed_window }}, false)
),

candidates as (
    select n.notification_id, n.reported_missing_at, n.found_at, e.person_id, e.missing_start_at, e.returned_at
    from notification_days n
    join episode_days e on e.date_of_birth = n.date_of_birth and e.day = n.day
    union all
    select n.notification_id, n.reported_missing_at, n.found_at, e.person_id, e.missing_start_at, e.returned_at
    from long_notifications n
    join council_episodes e on e.date_of_birth = n.date_of_birth
    union all
    select n.notification_id, n.reported_missing_at, n.found_at, e.person_id, e.missing_start_at, e.returned_at
    from notifications n
    join long_episodes e on e.date_of_birth = n.date_of_birth
)

select notification_id, min(person_id) as person_id
from candidates
where {{ police_notification_matches_episode('reported_missing_at', 'found_at', 'missing_start_at', 'returned_at') }}
group by notification_id
having count(distinct person_id) = 1
