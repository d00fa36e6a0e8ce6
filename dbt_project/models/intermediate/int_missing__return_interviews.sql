{#-
  Every return interview record, from the council's RHI forms and from the commissioned
  provider's returns, one row each, with the reconciled missing episode it follows (a form
  naming a duplicate episode record follows the episode that record duplicates).

  A provider return is matched to an episode, in this order:
    1. crs_episode_id, when given and the council recorded that episode (a duplicate record's
       id: the episode it duplicates);
    2. police_notification_id, when given: the episode that notification belongs to
       (which may be a police-only episode);
    3. the same child and time: the child's episode that started at or before the referral
       was received and had not returned more than var provider_referral_match_window_hours
       before it (the latest such episode).
  Unmatched returns keep reconciled_episode_id null (match_method null) for the data team.
-#}
with int_missing__episodes_reconciled as (
    select * from {{ ref('int_missing__episodes_reconciled') }}
),

stg_crs__return_home_interviews as (
    select * from {{ ref('stg_crs__return_home_interviews') }}
),

int_missing__council_episodes as (
    select * from {{ ref('int_missing__council_episodes') }}
),

episodes as (
    select reconciled_episode_id, episode_id, person_id, missing_start_at, returned_at
    from int_missing__episodes_reconciled
),

-- A form or return naming a council record counts for the record kept for that event: a
-- duplicate record's id leads to the episode it duplicates (int_missing__council_episodes).
council_record_episodes as (
    select records.episode_id as named_episode_id, episodes.reconciled_episode_id
    from int_missing__council_episodes records
    join episodes on episodes.episode_id = records.kept_episode_id
),

notification_episodes as (
    -- Which reconciled episode each police notification ended up in.
    select * from {{ ref('int_missing__notification_episodes') }}
),

council_forms as (
    select
        'CRS:' || f.rhi_id                      as interview_record_id,
        'council_form'                          as record_source,
        f.rhi_id                                as source_record_id,
        episodes.reconciled_episode_id,
        case when episodes.reconciled_episode_id is not null then 'crs_episode_id' end as match_method,
        f.offered_at,
        f.interview_at,
        f.outcome,
        f.conducted_by
    from stg_crs__return_home_interviews f
    left join council_record_episodes episodes on episodes.named_episode_id = f.episode_id
),

provider as (
    select * from {{ ref('stg_provider__return_interviews') }}
),

by_time as (
    select distinct on (p.provider_rhi_id) p.provider_rhi_id, e.reconciled_episode_id
    from provider p
    join episodes e on e.person_id = p.crs_person_id
    where e.missing_start_at <= p.referral_received_at
      and p.referral_received_at <= coalesce(e.returned_at, 'infinity'::timestamptz)
                                    + make_interval(hours => {{ var('provider_referral_match_window_hours') }})
    order by p.provider_rhi_id, e.missing_start_at desc, e.reconciled_episode_id
),

provider_returns as (
    select
        'PROVIDER:' || p.provider_rhi_id        as interview_record_id,
        'provider_return'                       as record_source,
        p.provider_rhi_id                       as source_record_id,
        coalesce(by_episode.reconciled_episode_id, by_notification.reconciled_episode_id,
                 by_time.reconciled_episode_id) as reconciled_episode_id,
        case when by_episode.reconciled_episode_id is not null then 'crs_episode_id'
             when by_notification.reconciled_episode_id is not null then 'police_notification_id'
             when by_time.reconciled_episode_id is not null then 'child_and_time' end as match_method,
        p.offered_at,
        p.interview_at,
        p.outcome,
        'PROVIDER'                              as conducted_by
    from provider p
    left join council_record_episodes by_episode on by_episode.named_episode_id = p.crs_episode_id
    left join notification_episodes by_notification on by_notification.notification_id = p.police_notification_id
    left join by_time on by_time.provider_rhi_id = p.provider_rhi_id
)

select * from council_forms
union all
select * from provider_returns
