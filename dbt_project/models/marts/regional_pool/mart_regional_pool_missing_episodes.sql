{#- The regional pool's extract: the degraded columns of int_regional_pool__missing_episodes (docs/access.md,
    "The regional pool"). Published only on a night no degrade step failed (warehouse/audiences.py). -#}
with degraded as (
    select * from {{ ref('int_regional_pool__missing_episodes') }}
)

select pool_episode_key, pool_child_key, missing_type, missing_start_at, returned_at, is_looked_after
from degraded
