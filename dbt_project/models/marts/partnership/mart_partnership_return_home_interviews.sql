{#-
  Return home interview timeliness for the safeguarding partnership: by month, looked-after
  status and who did the interview (council, provider, none recorded), with a total row per
  month (is_total_row; its cells are 'ALL'). Counts from mart_return_home_interviews_monthly,
  summed over teams (team structure is the council's own business, and fewer, larger cells
  need less suppression).

  Suppressed as the partnership reads everything (macros/suppression.sql): counts of 1 to
  var('suppression_threshold') are null with is_<count>_suppressed true, and a second cell
  of the month is suppressed where one alone could be recovered from the month's total.
  Rates are over the episodes measured (macros/pending.sql: an episode whose 72 hours are still
  running, with no offer yet, is pending and in neither count). The month's total is the
  scorecard's RHI01 row for the same month (offers within 72 hours / offers measured).
-#}
with monthly as (
    select * from {{ ref('mart_return_home_interviews_monthly') }}
),

cells as (
    select
        report_month,
        case when grouping(is_looked_after) = 1 then 'ALL'
             when is_looked_after then 'LOOKED_AFTER' else 'NOT_LOOKED_AFTER' end as looked_after_status,
        case when grouping(conducted_by) = 1 then 'ALL' else conducted_by end       as conducted_by,
        grouping(is_looked_after, conducted_by) = 3                                  as is_total_row,
        sum(returned_episodes_count)::int                                            as returned_episodes_count,
        sum(open_episodes_count)::int                                                as open_episodes_count,
        sum(offer_measured_count)::int                                               as offer_measured_count,
        sum(offered_within_72h_count)::int                                           as offered_within_72h_count,
        sum(interview_measured_count)::int                                           as interview_measured_count,
        sum(interviewed_within_72h_count)::int                                       as interviewed_within_72h_count,
        sum(no_rhi_recorded_count)::int                                              as no_rhi_recorded_count,
        sum(police_notified_not_recorded_count)::int                                 as police_notified_not_recorded_count,
        bool_and(is_rhi_measurable)                                                  as is_rhi_measurable,
        bool_and(is_police_notifications_measurable)                                 as is_police_notifications_measurable
    from monthly
    group by grouping sets ((report_month, is_looked_after, conducted_by), (report_month))
)

{{ suppress_small_counts(
    'cells', group_by=['report_month'], cell_columns=['looked_after_status', 'conducted_by'],
    counts=['returned_episodes_count', 'open_episodes_count', 'offer_measured_count', 'offered_within_72h_count',
            'interview_measured_count', 'interviewed_within_72h_count', 'no_rhi_recorded_count',
            'police_notified_not_recorded_count'],
    rates={'offered_within_72h_rate': ['offered_within_72h_count', 'offer_measured_count'],
           'interviewed_within_72h_rate': ['interviewed_within_72h_count', 'interview_measured_count']},
    keep=['is_rhi_measurable', 'is_police_notifications_measurable']) }}
