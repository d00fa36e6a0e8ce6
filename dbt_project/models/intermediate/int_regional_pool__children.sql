{#-
  The regional pool's degraded record of each child (macros/regional_pool.sql), with the
  degrade step that failed, if any (degrade_failure). Internal: mart_regional_pool_children
  publishes the degraded columns only; the publish step withholds the pool's whole extract
  when any row here or in the other int_regional_pool__ models failed (warehouse/audiences.py).
-#}
with stg_crs__people as (
    select * from {{ ref('stg_crs__people') }}
)

select
    {{ pool_hash('person_id', 'person') }}                  as pool_child_key,
    {{ month_of_birth('date_of_birth') }}                   as birth_month,
    {{ month_of_birth('expected_date_of_birth') }}          as expected_birth_month,
    gender,
    ethnicity,
    is_uasc,
    case when not {{ postcode_cannot_be_degraded('postcode') }} then {{ postcode_sector('postcode') }} end
                                                            as postcode_sector,
    case
        when (select count(*) from private.regional_pool_salt) <> 1 then 'no pool salt installed'
        when {{ postcode_cannot_be_degraded('postcode') }} then 'postcode is not a UK postcode'
    end                                                     as degrade_failure
from stg_crs__people
