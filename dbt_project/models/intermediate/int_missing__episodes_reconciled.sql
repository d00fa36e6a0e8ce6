{#-
  Every missing episode known to the partnership, one row each:
    - each episode the council recorded (reconciled_episode_id = the council's episode id; a
      record duplicating another of the same child and start is not a second episode:
      int_missing__council_episodes),
      with the police notifications matched to it (int_missing__police_notifications_matched);
    - each episode only the police notified: notifications of one child matched to no council
      episode, grouped when they overlap (within var missing_match_tolerance_hours), so a child
      re-reported during one absence is one episode (reconciled_episode_id = 'POLICE:' || the
      first notification id).
  Police-only episodes are a measure in themselves (recorded_by_council false) and are how
  children missing from home (not looked after) are seen at all.

  DfE SSDA903 validator checks on the council's episodes, as flags (rules 564-586):
  start before end, no overlapping episodes for one child, not before birth. (Type M or A
  is an accepted_values test on staging.)
-#}
with council_records as (
    select * from {{ ref('int_missing__council_episodes') }}
),

-- One event, one row: a record of the same child and start as another is a duplicate
-- (int_missing__council_episodes), not a second episode.
council as (
    select * from council_records where not is_duplicate
),

notifications as (
    select * from {{ ref('int_missing__police_notifications_matched') }}
),

risk_order as (
    -- The highest police risk grading across an episode's notifications is reported.
    select * from (values ('HIGH', 4), ('MEDIUM', 3), ('LOW', 2), ('NO_APPARENT_RISK', 1)) as r(risk_level, rank)
),

police_by_council_episode as (
    -- A notification matched to a duplicate record belongs to the record kept for its event.
    select
        kept.kept_episode_id                    as council_episode_id,
        count(*)                                as police_notification_count,
        min(n.notification_id)                  as first_notification_id,
        (array_agg(n.risk_level order by r.rank desc))[1] as police_risk_level
    from notifications n
    join council_records kept on kept.episode_id = n.council_episode_id
    left join risk_order r using (risk_level)
    group by kept.kept_episode_id
),

-- Police-only notifications, grouped into episodes per child (gaps and islands): a
-- notification reported within the tolerance of the end of an earlier one (its found time,
-- or its report time while it has none) is the same absence re-reported. A notification
-- never marked found does not swallow every later one.
police_only as (
    select
        n.*,
        case when n.reported_missing_at
                  <= max(coalesce(n.found_at, n.reported_missing_at)) over (
                        partition by n.person_key order by n.reported_missing_at, n.notification_id
                        rows between unbounded preceding and 1 preceding)
                     + make_interval(hours => {{ var('missing_match_tolerance_hours') }})
             then 0 else 1 end                  as starts_new_episode
    from notifications n
    where not n.recorded_by_council
),

police_only_numbered as (
    select *, sum(starts_new_episode) over (
                  partition by person_key order by reported_missing_at, notification_id) as episode_number
    from police_only
),

police_only_episodes as (
    select
        'POLICE:' || min(p.notification_id)     as reconciled_episode_id,
        min(p.notification_id)                  as first_notification_id,
        min(p.person_id)                        as person_id,
        p.person_key,
        min(p.reported_missing_at)              as missing_start_at,
        -- Ended at the latest found time of its reports, unless its latest report is still open
        -- (docs/marts.md, "What the reference decides"): an earlier report never marked found
        -- does not keep an absence open after the child was found on a later report.
        case when (array_agg(p.found_at order by p.reported_missing_at desc, p.notification_id desc))[1] is not null
             then max(p.found_at) end           as returned_at,
        count(*)                                as police_notification_count,
        (array_agg(p.risk_level order by r.rank desc))[1] as police_risk_level
    from police_only_numbered p
    left join risk_order r using (risk_level)
    group by p.person_key, p.episode_number
),

looked_after as (
    select person_id, start_date, end_date from {{ ref('stg_crs__looked_after_episodes') }}
),

births as (
    select person_id, date_of_birth from {{ ref('stg_crs__people') }}
),

-- The episode checks across a child's episodes, over the council's episodes alone. Computed before
-- the joins below: with the window after them, the planner kept the episodes in the window's order
-- through a nested loop that compared every episode with every police match (225 million
-- comparisons at three boroughs, growing with the square of the region).
council_ordered as (
    select
        c.*,
        -- Overlaps an earlier episode of the child (one still open at this start) or a later one
        -- (starting before this return). Episodes are ordered by start, then id, so a duplicate
        -- (same start) overlaps the one before it.
        coalesce(
            c.missing_start_at < max(coalesce(c.returned_at, 'infinity'::timestamptz)) over (
                partition by c.person_id order by c.missing_start_at, c.episode_id
                rows between unbounded preceding and 1 preceding)
            or lead(c.missing_start_at) over (partition by c.person_id order by c.missing_start_at, c.episode_id)
               < coalesce(c.returned_at, 'infinity'::timestamptz),
            false)                              as overlaps_another_episode
    from council c
),

council_episodes as (
    select
        c.episode_id                            as reconciled_episode_id,
        c.episode_id,
        p.first_notification_id                 as police_notification_id,
        c.person_id,
        {{ pseudonymise('c.person_id', 'person') }} as person_key,
        c.missing_type,
        c.is_looked_after,
        c.team,
        c.missing_start_at,
        c.returned_at,
        true                                    as recorded_by_council,
        p.council_episode_id is not null        as notified_by_police,
        coalesce(p.police_notification_count, 0) as police_notification_count,
        p.police_risk_level,
        coalesce(c.returned_at < c.missing_start_at, false) as ends_before_start,
        c.overlaps_another_episode,
        coalesce((c.missing_start_at at time zone '{{ var("source_time_zone") }}')::date < b.date_of_birth, false)
                                                as starts_before_birth
    from council_ordered c
    left join police_by_council_episode p on p.council_episode_id = c.episode_id
    left join births b on b.person_id = c.person_id
),

police_only_in_care as (
    select distinct e.reconciled_episode_id
    from police_only_episodes e
    join looked_after la
        on la.person_id = e.person_id
        and la.start_date <= (e.missing_start_at at time zone '{{ var("source_time_zone") }}')::date
        -- Looked after on a day: an episode started on or before it and not ended on it (as
        -- SSDA903 counts, and int_leaving_care__categories counts the 13 weeks).
        and coalesce(la.end_date, 'infinity'::date) > (e.missing_start_at at time zone '{{ var("source_time_zone") }}')::date
),

police_episodes as (
    select
        e.reconciled_episode_id,
        null::text                              as episode_id,
        e.first_notification_id                 as police_notification_id,
        e.person_id,
        e.person_key,
        null::text                              as missing_type,
        -- Looked after if the council had the (matched) child in care on the day reported missing.
        -- (A join, not `in (select ...)`: PostgreSQL hashes such a subquery only while it fits in
        -- work_mem, and past that scans it again for every episode.)
        in_care.reconciled_episode_id is not null as is_looked_after,
        null::text                              as team,
        e.missing_start_at,
        e.returned_at,
        false                                   as recorded_by_council,
        true                                    as notified_by_police,
        e.police_notification_count,
        e.police_risk_level,
        false                                   as ends_before_start,
        false                                   as overlaps_another_episode,
        false                                   as starts_before_birth
    from police_only_episodes e
    left join police_only_in_care in_care on in_care.reconciled_episode_id = e.reconciled_episode_id
)

select * from council_episodes
union all
select * from police_episodes
