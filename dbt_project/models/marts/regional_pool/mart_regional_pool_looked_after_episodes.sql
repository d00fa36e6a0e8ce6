{#- The regional pool's extract: the degraded columns of int_regional_pool__looked_after_episodes (docs/access.md,
    "The regional pool"). Published only on a night no degrade step failed (warehouse/audiences.py). -#}
with degraded as (
    select * from {{ ref('int_regional_pool__looked_after_episodes') }}
)

select pool_episode_key, pool_child_key, start_date, end_date, reason_new_episode, legal_status,
       placement_type, reason_episode_ceased, placement_postcode_sector
from degraded
