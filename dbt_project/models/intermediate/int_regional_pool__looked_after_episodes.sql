{#-
  The regional pool's degraded looked-after episodes (SSDA903 episodes table): the child and
  the episode by the pool's salted hash, the placement postcode to its sector, with the degrade
  step that failed, if any. Internal: mart_regional_pool_looked_after_episodes publishes the
  degraded columns only.
-#}
with stg_crs__looked_after_episodes as (
    select * from {{ ref('stg_crs__looked_after_episodes') }}
)

select
    {{ pool_hash('la_episode_id', 'looked_after_episode') }} as pool_episode_key,
    {{ pool_hash('person_id', 'person') }}                  as pool_child_key,
    start_date,
    end_date,
    reason_new_episode,
    legal_status,
    placement_type,
    reason_episode_ceased,
    case when not {{ postcode_cannot_be_degraded('placement_postcode') }}
         then {{ postcode_sector('placement_postcode') }} end as placement_postcode_sector,
    case
        when (select count(*) from private.regional_pool_salt) <> 1 then 'no pool salt installed'
        when {{ postcode_cannot_be_degraded('placement_postcode') }} then 'placement postcode is not a UK postcode'
    end                                                     as degrade_failure
from stg_crs__looked_after_episodes
