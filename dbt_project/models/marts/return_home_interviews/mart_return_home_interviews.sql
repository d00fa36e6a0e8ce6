{#-
  One row per missing episode known to the partnership, with the return home interview
  that followed it.

  Episodes: every episode the council recorded, and every episode only the police notified
  (recorded_by_council false): see int_missing__episodes_reconciled.
  Interviews: the council's RHI forms and the provider's returns (int_missing__return_interviews).

  Rule (DfE statutory guidance, 2014): a child returning from a missing episode is offered
  an independent return interview within 72 hours of return (var rhi_timescale_hours).
  Hours are real elapsed hours across clock changes. Open episodes (no return yet) are
  reported but are outside the denominator. A returned episode whose 72 hours run past the
  end of the extract with no offer yet is PENDING (macros/pending.sql): outside numerator
  and denominator until an offer arrives or the window closes. The offer and the interview
  each have their own status (an offer may be made and the interview still pending).
  A time recorded before the return gives no hours (never a negative duration):
  offer_before_return says why.

  Measurable only when the council's RHI forms or the provider's returns were delivered for
  the extract (macros/measurability.sql, measure 'rhi'). A council that sends only its
  SSDA903 return has missing episodes (dates only) and no interview records: the episodes
  are listed, every interview column is null and is_rhi_measurable is false.
-#}
with episodes as (
    select * from {{ ref('int_missing__episodes_reconciled') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__missing_episodes')) }} as extract_date
),

measurability as (
    select {{ is_measurable('rhi') }} as is_rhi_measurable
),

interviews as (
    select * from {{ ref('int_missing__return_interviews') }}
    where reconciled_episode_id is not null
),

-- An episode can have more than one interview record (a re-offer, a provider return and a
-- council form for the same interview). The measure is about the first offer: take the
-- earliest offered record, then records with no offer, then the lowest id as the source gave
-- it (council rhi_id and provider provider_rhi_id compared as text, byte order, docs/marts.md). Two offers
-- in the same minute are not told apart by which has an interview: the first offer's record
-- gives the interview, outcome and conducted_by.
first_interview as (
    select distinct on (reconciled_episode_id) *
    from interviews
    order by reconciled_episode_id, offered_at nulls last, source_record_id collate "C", interview_record_id
),

record_sources as (
    select
        reconciled_episode_id,
        bool_or(record_source = 'council_form')    as rhi_recorded_by_council,
        bool_or(record_source = 'provider_return') as rhi_returned_by_provider,
        count(*) filter (where record_source = 'council_form')    as council_form_count,
        count(*) filter (where record_source = 'provider_return') as provider_return_count
    from interviews
    group by reconciled_episode_id
),

joined as (
    select
        episodes.*,
        first_interview.interview_record_id is not null as rhi_recorded,
        coalesce(record_sources.rhi_recorded_by_council, false)  as rhi_recorded_by_council,
        coalesce(record_sources.rhi_returned_by_provider, false) as rhi_returned_by_provider,
        first_interview.offered_at,
        first_interview.interview_at,
        first_interview.outcome,
        first_interview.conducted_by,
        coalesce(record_sources.council_form_count, 0)    as council_form_count,
        coalesce(record_sources.provider_return_count, 0) as provider_return_count,
        measurability.is_rhi_measurable,
        as_at.extract_date
    from episodes
    left join first_interview using (reconciled_episode_id)
    left join record_sources using (reconciled_episode_id)
    cross join measurability
    cross join as_at
),

statuses as (
    -- THE pending rule (macros/pending.sql): the 72 hours are measured per returned episode.
    select
        joined.*,
        case when returned_at is not null and is_rhi_measurable then
            {{ timeliness_status('offered_at', within_hours('returned_at', 'offered_at', var('rhi_timescale_hours')),
                                 'returned_at + make_interval(hours => ' ~ var('rhi_timescale_hours') ~ ')',
                                 'extract_date') }}
        end                                                   as offer_status,
        case when returned_at is not null and is_rhi_measurable then
            {{ timeliness_status('interview_at', within_hours('returned_at', 'interview_at', var('rhi_timescale_hours')),
                                 'returned_at + make_interval(hours => ' ~ var('rhi_timescale_hours') ~ ')',
                                 'extract_date') }}
        end                                                   as interview_status
    from joined
)

select
    {{ missing_episode_key('recorded_by_council', 'episode_id', 'police_notification_id') }} as episode_key,
    person_key,
    missing_type,
    is_looked_after,
    team,
    missing_start_at,
    returned_at,
    date_trunc('month', returned_at at time zone '{{ var("source_time_zone") }}')::date as return_month,
    case when returned_at is null then 'open' else 'returned' end as episode_status,
    returned_at is not null and offer_status is distinct from 'PENDING' as in_denominator,
    {{ when_measurable('is_rhi_measurable', 'rhi_recorded') }}          as rhi_recorded,
    offered_at,
    interview_at,
    {{ hours_between('returned_at', 'offered_at') }}          as hours_to_offer,
    {{ hours_between('returned_at', 'interview_at') }}        as hours_to_interview,
    offer_status,
    {{ met_from_status('offer_status') }}                     as offered_within_72h,
    interview_status,
    {{ met_from_status('interview_status') }}                 as interviewed_within_72h,
    {{ when_measurable('is_rhi_measurable', 'coalesce(offered_at < returned_at, false)') }} as offer_before_return,
    outcome,
    conducted_by,
    recorded_by_council,
    notified_by_police,
    police_notification_count::int                            as police_notification_count,
    police_risk_level,
    {{ when_measurable('is_rhi_measurable', 'rhi_recorded_by_council') }}  as rhi_recorded_by_council,
    {{ when_measurable('is_rhi_measurable', 'rhi_returned_by_provider') }} as rhi_returned_by_provider,
    council_form_count::int                                   as council_form_count,
    provider_return_count::int                                as provider_return_count,
    is_rhi_measurable,
    ends_before_start,
    overlaps_another_episode,
    starts_before_birth
from statuses
