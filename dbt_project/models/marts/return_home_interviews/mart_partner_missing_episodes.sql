{#-
  The partner agencies' own rows of the missing-episode reconciliation, one row per record an
  agency sent (agency, agency_record_id):
    POLICE        each missing-person notification: the reconciled episode it belongs to
                  (recorded by the council or police-only), and the return interview that
                  followed the episode (the first offer, whoever made it: mart_return_home_interviews);
    RHI_PROVIDER  each referral the commissioned provider returned: the episode it was matched
                  to (int_missing__return_interviews) and the provider's own offer, interview and
                  outcome, timed from that episode's return.
  Each agency reads only its own rows: PostgreSQL row-level security on this table, declared
  in warehouse/audiences.yml (docs/access.md); the council's analysts read all of them.
  agency_record_id is the agency's own id of its record (it knows it already); persons and
  episodes are pseudonymous keys, the same as in mart_return_home_interviews.
-#}
with notifications as (
    select * from {{ ref('int_missing__police_notifications_matched') }}
),

notification_episodes as (
    select * from {{ ref('int_missing__notification_episodes') }}
),

episodes as (
    select
        reconciled_episode_id,
        person_key,
        is_looked_after,
        missing_start_at,
        returned_at,
        recorded_by_council,
        {{ missing_episode_key('recorded_by_council', 'episode_id', 'police_notification_id') }} as episode_key
    from {{ ref('int_missing__episodes_reconciled') }}
),

episode_interviews as (
    select episode_key, offered_at, interview_at, outcome, conducted_by, offered_within_72h,
           interviewed_within_72h, is_rhi_measurable
    from {{ ref('mart_return_home_interviews') }}
),

int_missing__return_interviews as (
    select * from {{ ref('int_missing__return_interviews') }}
),

stg_provider__return_interviews as (
    select * from {{ ref('stg_provider__return_interviews') }}
),

provider_returns as (
    select
        interviews.interview_record_id,
        interviews.reconciled_episode_id,
        interviews.offered_at,
        interviews.interview_at,
        interviews.outcome,
        provider.provider_rhi_id,
        provider.referral_received_at
    from int_missing__return_interviews as interviews
    join stg_provider__return_interviews as provider
        on interviews.interview_record_id = 'PROVIDER:' || provider.provider_rhi_id
    where interviews.record_source = 'provider_return'
),

police_rows as (
    select
        'POLICE'                                   as agency,
        notifications.notification_id              as agency_record_id,
        episodes.episode_key,
        coalesce(episodes.person_key, notifications.person_key) as person_key,
        notifications.reported_missing_at,
        notifications.found_at,
        notifications.risk_level,
        null::timestamptz                          as referral_received_at,
        coalesce(episodes.recorded_by_council, false) as recorded_by_council,
        episodes.missing_start_at                  as episode_missing_start_at,
        episodes.returned_at                       as episode_returned_at,
        episodes.is_looked_after,
        episode_interviews.offered_at              as rhi_offered_at,
        episode_interviews.interview_at            as rhi_interview_at,
        episode_interviews.outcome                 as rhi_outcome,
        episode_interviews.conducted_by            as rhi_conducted_by,
        episode_interviews.offered_within_72h,
        episode_interviews.interviewed_within_72h
    from notifications
    left join notification_episodes using (notification_id)
    left join episodes using (reconciled_episode_id)
    left join episode_interviews using (episode_key)
),

provider_rows as (
    select
        'RHI_PROVIDER'                             as agency,
        provider_returns.provider_rhi_id           as agency_record_id,
        episodes.episode_key,
        episodes.person_key,
        null::timestamptz                          as reported_missing_at,
        null::timestamptz                          as found_at,
        null::text                                 as risk_level,
        provider_returns.referral_received_at,
        episodes.recorded_by_council,
        episodes.missing_start_at                  as episode_missing_start_at,
        episodes.returned_at                       as episode_returned_at,
        episodes.is_looked_after,
        provider_returns.offered_at                as rhi_offered_at,
        provider_returns.interview_at              as rhi_interview_at,
        provider_returns.outcome                   as rhi_outcome,
        'PROVIDER'                                 as rhi_conducted_by,
        case when episodes.returned_at is not null
             then {{ within_hours('episodes.returned_at', 'provider_returns.offered_at', var('rhi_timescale_hours')) }}
        end                                        as offered_within_72h,
        case when episodes.returned_at is not null
             then {{ within_hours('episodes.returned_at', 'provider_returns.interview_at', var('rhi_timescale_hours')) }}
        end                                        as interviewed_within_72h
    from provider_returns
    left join episodes using (reconciled_episode_id)
)

select * from police_rows
union all
select * from provider_rows
