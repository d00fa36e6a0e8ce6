{#-
  One row per missing episode, with the return home interview that followed it.

  Rule (DfE statutory guidance, 2014): a child returning from a missing episode is
  offered an independent return interview within 72 hours of return
  (var rhi_timescale_hours). Hours are real elapsed hours across clock changes.
  Open episodes (no return yet) are reported but are outside the denominator.
-#}
with episodes as (
    select * from {{ ref('stg_crs__missing_episodes') }}
),

interviews as (
    select * from {{ ref('stg_crs__return_home_interviews') }}
),

-- An episode can have more than one RHI form (a re-offer, a provider and a council
-- record). The measure is about the first offer: take the earliest offered form,
-- then forms with no offer, oldest id first, so the choice is deterministic.
first_interview as (
    select distinct on (episode_id) *
    from interviews
    order by episode_id, offered_at nulls last, interview_at nulls last, rhi_id
),

joined as (
    select
        episodes.*,
        first_interview.rhi_id is not null as rhi_recorded,
        first_interview.offered_at,
        first_interview.interview_at,
        first_interview.outcome,
        first_interview.conducted_by
    from episodes
    left join first_interview using (episode_id)
)

select
    {{ pseudonymise('episode_id', 'missing_episode') }}       as episode_key,
    {{ pseudonymise('person_id', 'person') }}                 as person_key,
    missing_type,
    is_looked_after,
    team,
    missing_start_at,
    returned_at,
    date_trunc('month', returned_at at time zone '{{ var("source_time_zone") }}')::date as return_month,
    case when returned_at is null then 'open' else 'returned' end as episode_status,
    returned_at is not null                                   as in_denominator,
    rhi_recorded,
    offered_at,
    interview_at,
    {{ hours_between('returned_at', 'offered_at') }}          as hours_to_offer,
    {{ hours_between('returned_at', 'interview_at') }}        as hours_to_interview,
    case when returned_at is not null
         then {{ within_hours('returned_at', 'offered_at', var('rhi_timescale_hours')) }} end
                                                              as offered_within_72h,
    case when returned_at is not null
         then {{ within_hours('returned_at', 'interview_at', var('rhi_timescale_hours')) }} end
                                                              as interviewed_within_72h,
    coalesce(offered_at < returned_at, false)                 as offer_before_return,
    outcome,
    conducted_by
from joined
