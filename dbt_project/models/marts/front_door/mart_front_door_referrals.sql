{#-
  One row per referral: whether it ended in no further action (CIN ReferralNFA) and whether
  it is a re-referral: the same child had an earlier referral (on an earlier date; two on
  the same day are one event, not a re-referral) no more than var('re_referral_months')
  (12) months before it, inclusive, as the CIN census counts re-referrals.
-#}
with referrals as (
    select
        *,
        max(referral_date) over (
            partition by person_id order by referral_date
            range between unbounded preceding and interval '1 day' preceding
        ) as previous_referral_date
    from {{ ref('stg_crs__referrals') }}
)

select
    {{ pseudonymise('referral_id', 'referral') }}      as referral_key,
    {{ pseudonymise('person_id', 'person') }}          as person_key,
    referral_date,
    date_trunc('month', referral_date)::date           as referral_month,
    referral_source,
    team,
    is_nfa,
    previous_referral_date,
    coalesce(previous_referral_date >= referral_date - interval '{{ var("re_referral_months") }} months', false)
                                                       as is_re_referral
from referrals
