{#-
  One row per eligible, relevant or former relevant young person (Children (Leaving Care)
  Act 2000), as at the extract date, with their pathway plan timeliness: by the category the
  statute defines, derived from the looked-after episodes (int_leaving_care__categories), or
  by the category recorded; both are shown, and category_check says whether they agree.
  The timeliness measures use the DERIVED category and eligibility date: the duty follows
  from the facts (reg 40), not from the form; the recorded ones only where there are no
  looked-after episodes to derive from (NOT_DERIVABLE). A young person recorded ELIGIBLE whose episodes
  do not make them eligible is listed (category_check DIFFERS) but is not late for a plan they
  are not owed; one the episodes make eligible with no care-leaver record (NOT_RECORDED) is owed one.

  Rules (vars in dbt_project.yml; docs/marts.md):
    statutory (regulation 42): the needs assessment and pathway plan are due within
        pathway_plan_statutory_months of the 16th birthday or of the eligibility date,
        whichever is later.
    local practice standard: the plan started within pathway_plan_practice_window_months
        BEFORE the 16th birthday (on or after the window's first day, on or before the birthday).
    reviews: at least every pathway_plan_review_months; overdue when the extract date is
        past the last plan or review plus that interval.
  Status by THE pending rule (macros/pending.sql): no plan yet and the due date (or, for the
  practice standard, the 16th birthday) after the extract date: PENDING, outside both rates.
  A 16th birthday is date of birth + 16 years (macro nth_birthday): 29 February + n years is
  28 February in a non-leap year. Month arithmetic clamps to the month's end (add_months).
  The mart carries month of birth and age band, never the date of birth.

  Plan timeliness needs the plan and review events (crs__pathway_plan_events; measure
  'pathway_plan_timeliness' in macros/measurability.sql). A council that sends only its
  SSDA903 return has care leavers (OC3: in touch, activity, accommodation) but no plan
  dates: the timeliness columns are then null, not "late", and
  is_pathway_plan_timeliness_measurable is false. The OC3 columns stay measurable.
-#}
with categories as (
    select * from {{ ref('int_leaving_care__categories') }}
),

young_people as (
    -- Derived (statute) or recorded eligible, relevant or former relevant. The category and date
    -- the measures use: the derived ones; the recorded ones only when there is nothing to derive
    -- from (category_check NOT_DERIVABLE: no looked-after episode or date of birth in the extract).
    select
        categories.person_id,
        categories.date_of_birth,
        categories.extract_date,
        case when categories.category_check = 'NOT_DERIVABLE' then categories.recorded_eligibility_category
             else categories.eligibility_category end                      as eligibility_category,
        case when categories.category_check = 'NOT_DERIVABLE' then categories.recorded_eligibility_date
             else categories.eligibility_date end                          as eligibility_date,
        categories.recorded_eligibility_category,
        categories.recorded_eligibility_date,
        categories.category_check,
        categories.first_looked_after_date,
        categories.personal_adviser_id,
        categories.in_touch,
        categories.activity,
        categories.accommodation
    from categories
    where categories.eligibility_category in ('ELIGIBLE', 'RELEVANT', 'FORMER_RELEVANT')
       or categories.recorded_eligibility_category in ('ELIGIBLE', 'RELEVANT', 'FORMER_RELEVANT')
),

events as (
    select
        person_id,
        min(event_date) filter (where event_type = 'NEEDS_ASSESSMENT')     as first_needs_assessment_date,
        min(event_date) filter (where event_type = 'PATHWAY_PLAN')         as first_plan_date,
        max(event_date) filter (where event_type = 'PATHWAY_PLAN_REVIEW')  as last_review_date,
        max(event_date) filter (where is_plan_or_review)                   as last_plan_or_review_date,
        count(*) filter (where event_type = 'PATHWAY_PLAN_REVIEW')         as review_count,
        max(days_since_previous_plan_or_review)                            as longest_review_interval_days,
        count(*) filter (where later_than_review_interval)                 as late_review_count
    from {{ ref('int_leaving_care__plan_events') }}
    group by person_id
),

dated as (
    select
        young_people.*,
        events.first_needs_assessment_date,
        events.first_plan_date,
        events.last_review_date,
        events.last_plan_or_review_date,
        coalesce(events.review_count, 0)       as review_count,
        events.longest_review_interval_days,
        coalesce(events.late_review_count, 0)  as late_review_count,
        {{ nth_birthday('young_people.date_of_birth', 16) }} as sixteenth_birthday
    from young_people
    left join events using (person_id)
),

measurability as (
    select {{ is_measurable('pathway_plan_timeliness') }} as is_pathway_plan_timeliness_measurable
),

due as (
    select
        dated.*,
        measurability.is_pathway_plan_timeliness_measurable,
        -- The statutory clock runs only for a young person the looked-after episodes make
        -- eligible, relevant or former relevant (derived category), from the derived date.
        case when eligibility_category is not null then
            {{ add_months('greatest(sixteenth_birthday, eligibility_date)', var('pathway_plan_statutory_months')) }}
        end                                                         as statutory_due_date,
        {{ add_months('sixteenth_birthday', -var('pathway_plan_practice_window_months')) }}
                                                                    as practice_window_start_date,
        {{ add_months('last_plan_or_review_date', var('pathway_plan_review_months')) }}
                                                                    as next_review_due_date
    from dated cross join measurability
),

statuses as (
    -- THE pending rule (macros/pending.sql): a plan not made yet whose due date (statutory) or
    -- 16th birthday (practice standard) is after the extract date is pending, not late.
    select
        due.*,
        case when is_pathway_plan_timeliness_measurable then
            {{ timeliness_status('first_plan_date', 'first_plan_date <= statutory_due_date',
                                 'statutory_due_date', 'extract_date', deadline_is_date=true) }}
        end                                                         as statutory_status,
        case when is_pathway_plan_timeliness_measurable and eligibility_category is not null then
            {{ timeliness_status('first_plan_date',
                                 'first_plan_date between practice_window_start_date and sixteenth_birthday',
                                 'sixteenth_birthday', 'extract_date', deadline_is_date=true) }}
        end                                                         as practice_status
    from due
)

select
    {{ pseudonymise('person_id', 'person') }}                       as person_key,
    eligibility_category,
    recorded_eligibility_category,
    category_check,
    {{ month_of_birth('date_of_birth') }}                           as birth_month,
    {{ age_band('date_of_birth', 'extract_date') }}                 as age_band,
    extract_date                                                    as as_at_date,
    date_trunc('month', sixteenth_birthday)::date                   as sixteenth_birthday_month,
    eligibility_date,
    recorded_eligibility_date,
    statutory_due_date,
    date_trunc('month', statutory_due_date)::date                   as statutory_due_month,
    first_needs_assessment_date,
    first_plan_date,
    -- A data problem, not a practice measure: a plan dated before the young person was first
    -- looked after cannot be about the care it plans to leave. (A plan made early, before the
    -- 16th birthday or the eligibility date, to meet the local standard is good practice: it is
    -- on time by both measures.)
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'first_plan_date < first_looked_after_date') }}
                                                                    as plan_started_before_looked_after,
    statutory_status,
    -- Statutory measure. Days late: after the due date (0 when on time); with no plan yet
    -- and the due date passed, the days outstanding so far; null when pending or not measured.
    case
        when statutory_status is null or statutory_status = 'PENDING' then null
        when first_plan_date is not null then greatest(first_plan_date - statutory_due_date, 0)
        else extract_date - statutory_due_date
    end                                                             as statutory_days_late,
    {{ met_from_status('statutory_status') }}                       as statutory_on_time,
    practice_status,
    -- Local practice standard: started within the window before the 16th birthday.
    case
        when practice_status is null or practice_status = 'PENDING' then null
        when first_plan_date is not null then greatest(first_plan_date - sixteenth_birthday, 0)
        else extract_date - sixteenth_birthday
    end                                                             as practice_days_late,
    {{ met_from_status('practice_status') }}                        as practice_standard_met,
    last_review_date,
    last_plan_or_review_date,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'review_count::int') }} as review_count,
    case when last_plan_or_review_date is not null
         then extract_date > next_review_due_date end               as review_overdue,
    longest_review_interval_days::int                               as longest_review_interval_days,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'late_review_count::int') }} as late_review_count,
    is_pathway_plan_timeliness_measurable,
    personal_adviser_id is not null                                 as has_personal_adviser,
    in_touch                                                        as in_touch_code,
    {{ council_in_touch('in_touch') }}                              as is_in_touch,
    activity                                                        as activity_code,
    {{ activity_is_eet('activity') }}                               as is_in_education_employment_training,
    accommodation                                                   as accommodation_code,
    {{ accommodation_is_suitable('accommodation') }}                as is_accommodation_suitable
from statuses
