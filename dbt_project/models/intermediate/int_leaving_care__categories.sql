{#-
  Leaving-care categories as the statute defines them, derived from the looked-after episodes
  and dates of birth, compared with the category the case recording system recorded
  (docs/marts.md, "Derive what the statute defines; compare with what was recorded").
  One row per young person who is eligible, relevant or former relevant by either account, or
  who has a care-leaver record at all.

  Eligible child (Children Act 1989 Sch. 2 para 19B; Care Planning, Placement and Case Review
  (England) Regulations 2010, reg 40): aged 16 or 17, looked after, and looked after for a period
  or periods totalling at least 13 weeks (var eligible_child_looked_after_weeks) which began after
  the 14th birthday and ended after the 16th. Counted here as: the days looked after from the
  14th birthday up to and including a day, at least 91; the eligibility date is the first day,
  on or after the 16th birthday and before the 18th, on which the young person is looked after
  and that count has been reached. Short breaks (SSDA903 legal status V3, V4: pre-planned short
  placements, reg 48) do not count, as reg 40(2) excludes them. A day is looked after as in
  SSDA903 (macro looked_after_on): from the start date, not on the end date.
  Relevant child (s23A): aged 16 or 17, not looked after, eligible before leaving care.
  Former relevant child (s23C): aged 18 to 20 (to 24 in education or training, as the care-leaver
  record says), who was eligible or relevant before 18, i.e. has an eligibility date.
  As at the extract date; a young person under 16 or past those ages has no category here.

  category_check:
    AGREES         derived and recorded categories agree (recorded QUALIFYING with no derived
                   category agrees: qualifying young people are not eligible, relevant or former relevant);
    DIFFERS        both known and they differ (e.g. recorded ELIGIBLE after 76 days looked after since 14);
    NOT_RECORDED   derived eligible, relevant or former relevant, with no care-leaver record;
    NOT_DERIVABLE  a care-leaver record, but no looked-after episode (or no date of birth) in the
                   extract to derive from (e.g. a statutory return, which holds only the year's episodes).
  The timeliness measures use the DERIVED category and eligibility date (mart_pathway_plans).
-#}
with stg_crs__people as (
    select * from {{ ref('stg_crs__people') }}
),

stg_crs__looked_after_episodes as (
    select * from {{ ref('stg_crs__looked_after_episodes') }}
),

stg_crs__care_leavers as (
    select * from {{ ref('stg_crs__care_leavers') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__looked_after_episodes')) }} as extract_date
),

birthdays as (
    select
        person_id,
        date_of_birth,
        {{ nth_birthday('date_of_birth', 14) }} as fourteenth_birthday,
        {{ nth_birthday('date_of_birth', 16) }} as sixteenth_birthday,
        {{ nth_birthday('date_of_birth', 18) }} as eighteenth_birthday,
        {{ nth_birthday('date_of_birth', 21) }} as twenty_first_birthday,
        {{ nth_birthday('date_of_birth', 25) }} as twenty_fifth_birthday
    from stg_crs__people
    where date_of_birth is not null
),

-- Episodes that count towards the 13 weeks: known by the extract date, not short breaks.
counting_episodes as (
    select episodes.person_id, episodes.start_date, episodes.end_date
    from stg_crs__looked_after_episodes as episodes
    cross join as_at
    where episodes.start_date <= as_at.extract_date
      and not {{ is_short_break('episodes.legal_status') }}
),

-- Each episode's days from the 14th birthday, up to the extract date and the 18th birthday:
-- [counted_from, counted_to), the end day not looked after (SSDA903).
counted as (
    select
        counting_episodes.person_id,
        greatest(counting_episodes.start_date, birthdays.fourteenth_birthday) as counted_from,
        least(coalesce(counting_episodes.end_date, as_at.extract_date + 1), as_at.extract_date + 1,
              birthdays.eighteenth_birthday)                                   as counted_to,
        birthdays.sixteenth_birthday
    from counting_episodes
    join birthdays using (person_id)
    cross join as_at
),

cumulative as (
    select
        counted.*,
        coalesce(sum(counted_to - counted_from) over (
            partition by person_id order by counted_from, counted_to
            rows between unbounded preceding and 1 preceding), 0) as days_before
    from counted
    where counted_to > counted_from
),

-- In each episode, the first day on which the count reaches 13 weeks (or the episode's first
-- day, when it was reached before), not before the 16th birthday; it must be a looked-after day.
candidates as (
    select
        person_id,
        greatest(counted_from + greatest({{ var('eligible_child_looked_after_weeks') }} * 7 - days_before, 1)::int - 1,
                 sixteenth_birthday)                                          as candidate_date,
        counted_to
    from cumulative
    where days_before + (counted_to - counted_from) >= {{ var('eligible_child_looked_after_weeks') }} * 7
),

eligibility as (
    select person_id, min(candidate_date) as eligibility_date
    from candidates
    where candidate_date < counted_to
    group by person_id
),

looked_after_at_extract as (
    select distinct counting_episodes.person_id
    from counting_episodes cross join as_at
    where {{ looked_after_on('as_at.extract_date') }}
),

first_looked_after as (
    select person_id, min(start_date) as first_looked_after_date, true as has_looked_after_episodes
    from stg_crs__looked_after_episodes
    group by person_id
),

derived as (
    select
        birthdays.person_id,
        eligibility.eligibility_date,
        case
            when eligibility.eligibility_date is null then null
            when as_at.extract_date < birthdays.eighteenth_birthday
                then case when looked_after_at_extract.person_id is not null then 'ELIGIBLE' else 'RELEVANT' end
            when as_at.extract_date < birthdays.twenty_first_birthday
              or (coalesce(care_leavers.is_in_higher_education_or_training, false)
                  and as_at.extract_date < birthdays.twenty_fifth_birthday)
                then 'FORMER_RELEVANT'
        end                                                                    as eligibility_category
    from birthdays
    cross join as_at
    left join eligibility using (person_id)
    left join looked_after_at_extract using (person_id)
    left join stg_crs__care_leavers as care_leavers using (person_id)
),

young_people as (
    select person_id from derived where eligibility_category is not null
    union
    select person_id from stg_crs__care_leavers
)

select
    young_people.person_id,
    birthdays.date_of_birth,
    as_at.extract_date,
    derived.eligibility_category,
    derived.eligibility_date,
    care_leavers.eligibility_category                                          as recorded_eligibility_category,
    care_leavers.eligibility_date                                              as recorded_eligibility_date,
    case
        when care_leavers.person_id is null then 'NOT_RECORDED'
        when first_looked_after.has_looked_after_episodes is null or birthdays.date_of_birth is null
            then 'NOT_DERIVABLE'
        when derived.eligibility_category is not distinct from care_leavers.eligibility_category
          or (derived.eligibility_category is null and care_leavers.eligibility_category = 'QUALIFYING')
            then 'AGREES'
        else 'DIFFERS'
    end                                                                        as category_check,
    first_looked_after.first_looked_after_date,
    care_leavers.person_id is not null                                         as has_care_leaver_record,
    care_leavers.personal_adviser_id,
    care_leavers.in_touch,
    care_leavers.activity,
    care_leavers.accommodation,
    care_leavers.is_in_higher_education_or_training
from young_people
cross join as_at
left join birthdays using (person_id)
left join derived using (person_id)
left join stg_crs__care_leavers as care_leavers using (person_id)
left join first_looked_after using (person_id)
