{#-
  Children looked after, by month, for the 12 months to the as-at date (the extract date):
  looked after at the month end (at the as-at date for the as-at month, which may not have
  ended), started and ceased to be looked after in the month. Same SSDA903 conventions as
  mart_looked_after_children (macros/looked_after.sql): a child whose episode ends on the
  month's last day is not looked after at that month end. Episodes under short breaks (legal
  status V3, V4) are left out, as the DfE's statistics leave them out (macro is_short_break).

  Partnership-facing: counts from 1 to var('suppression_threshold') are suppressed (null,
  with an is_*_suppressed flag; 0 is a true zero), as DfE statistics do
  (macros/suppression.sql). One row per month and no total row, so a suppressed cell cannot
  be recovered from the others and no secondary suppression is needed.

  Not measurable without the looked-after episodes feed (measure 'looked_after',
  macros/measurability.sql): the counts are then null, not 0.
-#}
with stg_crs__looked_after_episodes as (
    select * from {{ ref('stg_crs__looked_after_episodes') }}
),

stg_crs__people as (
    select * from {{ ref('stg_crs__people') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__looked_after_episodes')) }} as as_at_date
),

months as (
    select
        month_start::date                                                      as report_month,
        least((month_start + interval '1 month')::date - 1, as_at.as_at_date)  as counted_at_date
    from as_at
    cross join generate_series(date_trunc('month', as_at.as_at_date) - interval '11 months',
                               date_trunc('month', as_at.as_at_date), interval '1 month') as month_start
),

episodes as (
    select episodes.person_id, episodes.start_date, episodes.end_date,
           episodes.reason_new_episode, episodes.reason_episode_ceased,
           coalesce(people.is_uasc, false) as is_uasc
    from stg_crs__looked_after_episodes as episodes
    left join stg_crs__people as people using (person_id)
    where not {{ is_short_break('episodes.legal_status') }}
),

counts as (
    select
        months.report_month,
        months.counted_at_date,
        count(distinct episodes.person_id)
            filter (where {{ looked_after_on('months.counted_at_date', 'episodes.start_date', 'episodes.end_date') }})
            as looked_after_count,
        count(distinct episodes.person_id)
            filter (where {{ looked_after_on('months.counted_at_date', 'episodes.start_date', 'episodes.end_date') }}
                    and episodes.is_uasc)
            as uasc_looked_after_count,
        count(distinct episodes.person_id)
            filter (where {{ starts_period_of_care('episodes.reason_new_episode') }}
                    and episodes.start_date between months.report_month and months.counted_at_date)
            as started_count,
        count(distinct episodes.person_id)
            filter (where {{ ends_period_of_care('episodes.end_date', 'episodes.reason_episode_ceased') }}
                    and episodes.end_date between months.report_month and months.counted_at_date)
            as ceased_count
    from months
    left join episodes
        on episodes.start_date <= months.counted_at_date
       and (episodes.end_date is null or episodes.end_date >= months.report_month)
    group by months.report_month, months.counted_at_date
),

measurability as (
    select {{ is_measurable('looked_after') }} as is_looked_after_measurable
),

flagged as (
    select
        counts.*,
        measurability.is_looked_after_measurable,
        {{ is_small_count('looked_after_count') }}      as is_looked_after_count_suppressed,
        {{ is_small_count('uasc_looked_after_count') }} as is_uasc_looked_after_count_suppressed,
        {{ is_small_count('started_count') }}           as is_started_count_suppressed,
        {{ is_small_count('ceased_count') }}            as is_ceased_count_suppressed
    from counts cross join measurability
)

select
    report_month,
    counted_at_date,
    case when is_looked_after_measurable and not is_looked_after_count_suppressed
         then looked_after_count::int end                                    as looked_after_count,
    is_looked_after_count_suppressed,
    case when is_looked_after_measurable and not is_uasc_looked_after_count_suppressed
         then uasc_looked_after_count::int end                               as uasc_looked_after_count,
    is_uasc_looked_after_count_suppressed,
    case when is_looked_after_measurable and not is_started_count_suppressed
         then started_count::int end                                         as started_count,
    is_started_count_suppressed,
    case when is_looked_after_measurable and not is_ceased_count_suppressed
         then ceased_count::int end                                          as ceased_count,
    is_ceased_count_suppressed,
    is_looked_after_measurable
from flagged
