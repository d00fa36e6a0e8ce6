{#-
  Which reconciled missing episode each police notification belongs to: the council episode
  it matched (int_missing__police_notifications_matched), else the police-only episode of the
  same child whose time span holds the report (int_missing__episodes_reconciled). One row per
  notification that belongs to an episode. Read by int_missing__return_interviews (a provider
  return that names a notification) and mart_partner_missing_episodes (the police's rows).
-#}
with int_missing__police_notifications_matched as (
    select * from {{ ref('int_missing__police_notifications_matched') }}
),

int_missing__episodes_reconciled as (
    select * from {{ ref('int_missing__episodes_reconciled') }}
)

select n.notification_id,
       coalesce(n.council_episode_id, police_only.reconciled_episode_id) as reconciled_episode_id
from int_missing__police_notifications_matched n
left join int_missing__episodes_reconciled police_only
    on not police_only.recorded_by_council
    and police_only.person_key = n.person_key
    and n.reported_missing_at >= police_only.missing_start_at
    and n.reported_missing_at <= coalesce(police_only.returned_at, 'infinity'::timestamptz)
where n.council_episode_id is not null or police_only.reconciled_episode_id is not null
