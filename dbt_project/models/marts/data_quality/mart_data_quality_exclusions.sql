{#-
  Every source record that a person-level mart does not show as a row (or count) of its own,
  one row each, with the reason: the "exclusions" of conservation (docs/marts.md, "Every row
  accounted for"). For each person-level mart and each feed it is built from, the nightly
  quality gate checks (critical, expectations/conservation.py)
      rows in the night's feed = rows the mart accounts for + rows listed here for that mart and feed,
  and the quality report shows the table. A reason here is a data-quality count, never a
  second event: a missing episode recorded twice is one episode, its duplicate record is here.

  reason_code, by mart and feed:
    mart_return_home_interviews / crs__missing_episodes
        DUPLICATE_RECORD       the same child and start as another record, which is kept
                               (int_missing__council_episodes); kept_record_key names it.
    mart_return_home_interviews / crs__return_home_interviews, provider__return_interviews
        NO_MATCHING_EPISODE    an interview record that matches no missing episode
                               (int_missing__return_interviews): it cannot be measured.
    mart_pathway_plans / crs__care_leavers
        NO_PATHWAY_PLAN_DUTY   recorded neither eligible, relevant nor former relevant (e.g.
                               QUALIFYING), and the looked-after episodes do not make them so.
    mart_looked_after_children / crs__looked_after_episodes
        NOT_IN_YEAR            an episode not open at any time in the 12 months to the as-at date.
        SHORT_BREAK            an episode in the year under short breaks (legal status V3, V4),
                               which the DfE's looked-after statistics leave out.
  Keys are pseudonymous; no names, no dates of birth.
-#}
with int_missing__council_episodes as (
    select * from {{ ref('int_missing__council_episodes') }}
),

int_missing__return_interviews as (
    select * from {{ ref('int_missing__return_interviews') }}
),

int_leaving_care__categories as (
    select * from {{ ref('int_leaving_care__categories') }}
),

stg_crs__looked_after_episodes as (
    select * from {{ ref('stg_crs__looked_after_episodes') }}
),

looked_after_as_at as (
    select {{ extract_as_at(ref('stg_crs__looked_after_episodes')) }} as as_at_date
),

exclusions as (
    select
        'mart_return_home_interviews'                           as mart,
        'crs__missing_episodes'                                 as feed,
        {{ pseudonymise('episode_id', 'missing_episode') }}      as record_key,
        {{ pseudonymise('person_id', 'person') }}                as person_key,
        'DUPLICATE_RECORD'                                      as reason_code,
        'The same child and start as another missing episode record, which is kept: one absence recorded twice is one episode.'
                                                                as reason,
        {{ pseudonymise('kept_episode_id', 'missing_episode') }} as kept_record_key
    from int_missing__council_episodes
    where is_duplicate

    union all

    select
        'mart_return_home_interviews',
        case record_source when 'council_form' then 'crs__return_home_interviews'
                           else 'provider__return_interviews' end,
        {{ pseudonymise('interview_record_id', 'interview_record') }},
        null,
        'NO_MATCHING_EPISODE',
        'A return interview record that matches no missing episode (by episode id, police notification, or child and time): it cannot be measured against a return.',
        null
    from int_missing__return_interviews
    where reconciled_episode_id is null

    union all

    select
        'mart_pathway_plans',
        'crs__care_leavers',
        {{ pseudonymise('person_id', 'person') }},
        {{ pseudonymise('person_id', 'person') }},
        'NO_PATHWAY_PLAN_DUTY',
        'Recorded ' || coalesce(recorded_eligibility_category, 'without a category')
            || ', and the looked-after episodes do not make the young person eligible, relevant or former relevant: no pathway plan duty.',
        null
    from int_leaving_care__categories
    where has_care_leaver_record
      and coalesce(recorded_eligibility_category, '') not in ('ELIGIBLE', 'RELEVANT', 'FORMER_RELEVANT')
      and eligibility_category is null

    union all

    select
        'mart_looked_after_children',
        'crs__looked_after_episodes',
        {{ pseudonymise('la_episode_id', 'looked_after_episode') }},
        {{ pseudonymise('person_id', 'person') }},
        case when is_in_year then 'SHORT_BREAK' else 'NOT_IN_YEAR' end,
        case when is_in_year
             then 'A looked-after episode under an agreed series of short-term placements (legal status '
                  || legal_status || '): the DfE''s looked-after statistics leave these out.'
             else 'A looked-after episode not open at any time in the 12 months to the as-at date.' end,
        null
    from (
        select episodes.*, {{ episode_in_looked_after_year('looked_after_as_at.as_at_date') }} as is_in_year
        from stg_crs__looked_after_episodes as episodes
        cross join looked_after_as_at
    ) as episodes
    where not is_in_year or {{ is_short_break() }}
)

select * from exclusions
