{#-
  Return home interview timeliness by month, looked-after status, who conducted the
  interview and team: the figures the improvement board reads.

  report_month is the month of return for returned episodes. Open episodes have no return:
  they are outside every rate and counted separately (open_episodes_count) in the month
  they started. A returned episode whose 72 hours have not passed by the end of the extract,
  with no offer (or interview) yet, is pending (macros/pending.sql): counted in
  offer_pending_count (interview_pending_count) and outside that rate. Rates are fractions
  0..1 of the returned episodes measured (offer_measured_count, interview_measured_count);
  null when there are none.
  Episodes only the police notified have no council team: team 'NOT_RECORDED'.

  Not measurable (macros/measurability.sql): with no RHI forms and no provider returns for
  the extract (measure 'rhi'), the interview counts and rates are null, not 0, and
  is_rhi_measurable is false; episodes are still counted. With no police notifications
  (measure 'police_notifications'), police_notified_not_recorded_count is null.
-#}
with episodes as (
    select
        coalesce(return_month,
                 date_trunc('month', missing_start_at at time zone '{{ var("source_time_zone") }}')::date)
                                                    as report_month,
        is_looked_after,
        coalesce(conducted_by, 'NONE')              as conducted_by,
        coalesce(team, 'NOT_RECORDED')              as team,
        in_denominator,
        rhi_recorded,
        offer_status,
        interview_status,
        offered_within_72h,
        interviewed_within_72h,
        recorded_by_council,
        episode_status
    from {{ ref('mart_return_home_interviews') }}
),

measurability as (
    select {{ is_measurable('rhi') }}                  as is_rhi_measurable,
           {{ is_measurable('police_notifications') }} as is_police_notifications_measurable
),

counts as (
    select
        report_month,
        is_looked_after,
        conducted_by,
        team,
        count(*) filter (where episode_status = 'returned')                as returned_episodes_count,
        count(*) filter (where episode_status = 'open')                    as open_episodes_count,
        count(*) filter (where offer_status = 'PENDING')                   as offer_pending_count,
        count(*) filter (where offer_status in ('MET', 'MISSED'))          as offer_measured_count,
        count(*) filter (where offer_status = 'MET')                       as offered_within_72h_count,
        count(*) filter (where interview_status = 'PENDING')               as interview_pending_count,
        count(*) filter (where interview_status in ('MET', 'MISSED'))      as interview_measured_count,
        count(*) filter (where interview_status = 'MET')                   as interviewed_within_72h_count,
        count(*) filter (where in_denominator and not rhi_recorded)        as no_rhi_recorded_count,
        count(*) filter (where not recorded_by_council)                    as police_notified_not_recorded_count
    from episodes
    group by report_month, is_looked_after, conducted_by, team
)

select
    report_month,
    is_looked_after,
    conducted_by,
    team,
    returned_episodes_count::int                                           as returned_episodes_count,
    open_episodes_count::int                                               as open_episodes_count,
    {{ when_measurable('is_rhi_measurable', 'offer_pending_count::int') }} as offer_pending_count,
    {{ when_measurable('is_rhi_measurable', 'offer_measured_count::int') }} as offer_measured_count,
    {{ when_measurable('is_rhi_measurable', 'offered_within_72h_count::int') }} as offered_within_72h_count,
    {{ when_measurable('is_rhi_measurable',
       rate('offered_within_72h_count', 'offer_measured_count')) }} as offered_within_72h_rate,
    {{ when_measurable('is_rhi_measurable', 'interview_pending_count::int') }} as interview_pending_count,
    {{ when_measurable('is_rhi_measurable', 'interview_measured_count::int') }} as interview_measured_count,
    {{ when_measurable('is_rhi_measurable', 'interviewed_within_72h_count::int') }} as interviewed_within_72h_count,
    {{ when_measurable('is_rhi_measurable',
       rate('interviewed_within_72h_count', 'interview_measured_count')) }} as interviewed_within_72h_rate,
    {{ when_measurable('is_rhi_measurable', 'no_rhi_recorded_count::int') }} as no_rhi_recorded_count,
    {{ when_measurable('is_police_notifications_measurable', 'police_notified_not_recorded_count::int') }}
                                                                           as police_notified_not_recorded_count,
    is_rhi_measurable,
    is_police_notifications_measurable
from counts cross join measurability
