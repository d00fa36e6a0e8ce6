{#-
  The regional pool's degraded missing episodes (SSDA903 missing table, with times): child and
  episode by the pool's salted hash; the team holding the case is dropped. Internal:
  mart_regional_pool_missing_episodes publishes the degraded columns only.
-#}
with stg_crs__missing_episodes as (
    select * from {{ ref('stg_crs__missing_episodes') }}
)

select
    {{ pool_hash('episode_id', 'missing_episode') }}        as pool_episode_key,
    {{ pool_hash('person_id', 'person') }}                  as pool_child_key,
    missing_type,
    missing_start_at,
    returned_at,
    is_looked_after,
    case when (select count(*) from private.regional_pool_salt) <> 1 then 'no pool salt installed' end
                                                            as degrade_failure
from stg_crs__missing_episodes
