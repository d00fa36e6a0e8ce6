{#-
  Every missing episode record the council's case recording system holds, one row each, with the
  record that stands for its event.

  One event, one row (docs/marts.md, "One event, one row"): two records of the same child with the
  same start are ONE absence recorded twice. The record kept is the first, ordered by
    1. a return recorded before none (the later record often completes the first),
    2. the episode id;
  every other is a duplicate (is_duplicate), with kept_episode_id naming the record it duplicates.
  Downstream, a duplicate is not a second episode: int_missing__episodes_reconciled reads the kept
  records only, RHI forms and provider returns that name a duplicate's id count for the kept record,
  and mart_data_quality_exclusions lists each duplicate with its reason.
-#}
with stg_crs__missing_episodes as (
    select * from {{ ref('stg_crs__missing_episodes') }}
)

select
    stg_crs__missing_episodes.*,
    first_value(episode_id) over (
        partition by person_id, missing_start_at
        order by returned_at is null, episode_id
    )                                                       as kept_episode_id,
    episode_id <> first_value(episode_id) over (
        partition by person_id, missing_start_at
        order by returned_at is null, episode_id
    )                                                       as is_duplicate
from stg_crs__missing_episodes
