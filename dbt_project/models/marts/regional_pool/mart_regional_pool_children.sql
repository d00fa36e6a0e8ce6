{#- The regional pool's extract: the degraded columns of int_regional_pool__children (docs/access.md,
    "The regional pool"). Published only on a night no degrade step failed (warehouse/audiences.py). -#}
with degraded as (
    select * from {{ ref('int_regional_pool__children') }}
)

select pool_child_key, birth_month, expected_birth_month, gender, ethnicity, is_uasc, postcode_sector
from degraded
