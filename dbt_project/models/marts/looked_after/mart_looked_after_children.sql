{#-
  One row per child looked after at any time in the 12 months up to and including the
  as-at date (the extract date: macro extract_as_at; 31 March for an SSDA903 return), from
  the looked-after episodes and the child's person record.

  Episodes under short breaks (legal status V3, V4; macro is_short_break) are left out, as
  the DfE's statistics leave them out: a child looked after only under short breaks in the
  year has no row, and their episodes are in mart_data_quality_exclusions (SHORT_BREAK).

  SSDA903 conventions (macros/looked_after.sql):
    looked after at the as-at date: an episode with start_date <= as-at and no end date or
        an end date after it (a child whose episode ends on 31 March is not looked after at
        31 March);
    started in the year: an episode with reason for new episode S starting in the year;
    ceased in the year: an episode ending in the year whose reason for ceasing is not X1.
  The year is the 12 months to the as-at date: from the day after the as-at date a year
  earlier (1 April for 31 March) to the as-at date, both included.
  Month of birth and age band only, never the date of birth; keys are pseudonymous.
-#}
with stg_crs__looked_after_episodes as (
    select * from {{ ref('stg_crs__looked_after_episodes') }}
),

stg_crs__people as (
    select * from {{ ref('stg_crs__people') }}
),

as_at as (
    select
        {{ extract_as_at(ref('stg_crs__looked_after_episodes')) }}                       as as_at_date
),

year_window as (
    select as_at_date, {{ looked_after_year_start('as_at_date') }} as year_start_date
    from as_at
),

episodes as (
    select episodes.*, year_window.as_at_date, year_window.year_start_date
    from stg_crs__looked_after_episodes as episodes
    cross join year_window
    where {{ episode_in_looked_after_year('year_window.as_at_date', 'episodes.start_date', 'episodes.end_date') }}
      and not {{ is_short_break('episodes.legal_status') }}
),

-- The episode open at the as-at date (the latest-starting one, should two overlap).
episode_at_as_at as (
    select distinct on (person_id) person_id, legal_status, placement_type
    from episodes
    where {{ looked_after_on('as_at_date') }}
    order by person_id, start_date desc, la_episode_id desc
),

-- The last episode that ended a period of care in the year, for its reason.
last_ceased as (
    select distinct on (person_id) person_id, reason_episode_ceased
    from episodes
    where {{ ends_period_of_care() }} and end_date between year_start_date and as_at_date
    order by person_id, end_date desc, la_episode_id desc
),

children as (
    select
        person_id,
        min(as_at_date)                                                   as as_at_date,
        min(year_start_date)                                              as year_start_date,
        count(*)                                                          as episodes_in_year_count,
        bool_or({{ starts_period_of_care() }} and start_date >= year_start_date) as started_in_year,
        bool_or({{ ends_period_of_care() }} and end_date <= as_at_date)  as ceased_in_year
    from episodes
    group by person_id
)

select
    {{ pseudonymise('children.person_id', 'person') }}                   as person_key,
    children.as_at_date,
    children.year_start_date,
    {{ month_of_birth('people.date_of_birth') }}                         as birth_month,
    {{ looked_after_age_band('people.date_of_birth', 'children.as_at_date') }} as age_band,
    people.gender,
    people.is_uasc,
    episode_at_as_at.person_id is not null                               as is_looked_after_at_as_at,
    episode_at_as_at.legal_status                                        as legal_status_at_as_at,
    episode_at_as_at.placement_type                                      as placement_type_at_as_at,
    children.started_in_year,
    children.ceased_in_year,
    last_ceased.reason_episode_ceased                                    as reason_ceased_in_year,
    children.episodes_in_year_count::int                                 as episodes_in_year_count
from children
left join stg_crs__people as people using (person_id)
left join episode_at_as_at using (person_id)
left join last_ceased using (person_id)
