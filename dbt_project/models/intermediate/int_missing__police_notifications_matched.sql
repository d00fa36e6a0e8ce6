{#-
  One row per police missing-person notification, with the council child (person spine)
  and the council missing episode it belongs to.

  Rule (macro police_notification_matches_episode): a notification matches a council episode
  of the same child when their time windows overlap, or when the police report is within
  var missing_match_tolerance_hours of the council's start. If several match, the episode whose
  start is nearest the police report wins (then the lower episode id), so each notification
  belongs to at most one council episode; a council episode may have several (re-reports).
-#}
with stg_police__missing_notifications as (
    select * from {{ ref('stg_police__missing_notifications') }}
),

int_people__spine as (
    select * from {{ ref('int_people__spine') }}
),

notifications as (
    select
        n.*,
        spine.person_id,
        spine.person_key
    from stg_police__missing_notifications n
    left join int_people__spine spine
        on spine.source_system = 'police'
        and spine.source_person_reference = n.police_person_reference
),

council_episodes as (
    -- One event, one row: a duplicate record (int_missing__council_episodes) is not an episode a
    -- notification can belong to (an open copy would otherwise take every later report).
    select episode_id, person_id, missing_start_at, returned_at
    from {{ ref('int_missing__council_episodes') }}
    where not is_duplicate
),

candidate_pairs as (
    select
        n.notification_id,
        c.episode_id,
        abs(extract(epoch from n.reported_missing_at - c.missing_start_at)) as start_gap_seconds
    from notifications n
    join council_episodes c on c.person_id = n.person_id
    where {{ police_notification_matches_episode('n.reported_missing_at', 'n.found_at', 'c.missing_start_at', 'c.returned_at') }}
),

best_match as (
    select distinct on (notification_id) notification_id, episode_id
    from candidate_pairs
    order by notification_id, start_gap_seconds, episode_id
)

select
    n.notification_id,
    n.police_person_reference,
    n.person_id,
    n.person_key,
    n.reported_missing_at,
    n.found_at,
    n.risk_level,
    best_match.episode_id                  as council_episode_id,
    best_match.episode_id is not null      as recorded_by_council
from notifications n
left join best_match using (notification_id)
