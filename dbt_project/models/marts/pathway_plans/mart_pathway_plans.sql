{#-
  One row per eligible, relevant or former relevant young person (Children (Leaving Care)
  Act 2000), as at the extract date, with their pathway plan timeliness.

  Rules (vars in dbt_project.yml; docs/marts.md):
    statutory (regulation 42): the needs assessment and pathway plan are due within
        pathway_plan_statutory_months of the 16th birthday or of the eligibility date,
        whichever is later.
    local practice standard: the plan started within pathway_plan_practice_window_months
        BEFORE the 16th birthday (on or after the window's first day, on or before the birthday).
    reviews: at least every pathway_plan_review_months; overdue when the extract date is
        past the last plan or review plus that interval.
  A 16th birthday is date of birth + 16 years (macro nth_birthday): 29 February + n years is
  28 February in a non-leap year. Month arithmetic clamps to the month's end (add_months).
  The mart carries month of birth and age band, never the date of birth.

  Plan timeliness needs the plan and review events (crs__pathway_plan_events; measure
  'pathway_plan_timeliness' in macros/measurability.sql). A council that sends only its
  SSDA903 return has care leavers (OC3: in touch, activity, accommodation) but no plan
  dates: the timeliness columns are then null, not "late", and
  is_pathway_plan_timeliness_measurable is false. The OC3 columns stay measurable.
-#}
with care_leavers as (
    select * from {{ ref('stg_crs__care_leavers') }}
    where eligibility_category in ('ELIGIBLE', 'RELEVANT', 'FORMER_RELEVANT')
),

people as (
    select person_id, date_of_birth from {{ ref('stg_crs__people') }}
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
        cl.*,
        people.date_of_birth,
        events.first_needs_assessment_date,
        events.first_plan_date,
        events.last_review_date,
        events.last_plan_or_review_date,
        coalesce(events.review_count, 0)       as review_count,
        events.longest_review_interval_days,
        coalesce(events.late_review_count, 0)  as late_review_count,
        {{ nth_birthday('people.date_of_birth', 16) }} as sixteenth_birthday
    from care_leavers cl
    left join people using (person_id)
    left join events using (person_id)
),

measurability as (
    select {{ is_measurable('pathway_plan_timeliness') }} as is_pathway_plan_timeliness_measurable
),

due as (
    select
        dated.*,
        measurability.is_pathway_plan_timeliness_measurable,
        -- greatest() ignores nulls: with no eligibility date the clock starts at 16.
        {{ add_months('greatest(sixteenth_birthday, eligibility_date)', var('pathway_plan_statutory_months')) }}
                                                                    as statutory_due_date,
        {{ add_months('sixteenth_birthday', -var('pathway_plan_practice_window_months')) }}
                                                                    as practice_window_start_date,
        {{ add_months('last_plan_or_review_date', var('pathway_plan_review_months')) }}
                                                                    as next_review_due_date
    from dated cross join measurability
)

select
    {{ pseudonymise('person_id', 'person') }}                       as person_key,
    eligibility_category,
    {{ month_of_birth('date_of_birth') }}                           as birth_month,
    {{ age_band('date_of_birth', 'extract_date') }}                 as age_band,
    extract_date                                                    as as_at_date,
    date_trunc('month', sixteenth_birthday)::date                   as sixteenth_birthday_month,
    eligibility_date,
    statutory_due_date,
    date_trunc('month', statutory_due_date)::date                   as statutory_due_month,
    first_needs_assessment_date,
    first_plan_date,
    {{ when_measurable('is_pathway_plan_timeliness_measurable', 'coalesce(first_plan_date < eligibility_date, false)') }}
                                                                    as plan_started_before_eligibility,
    -- Statutory measure. Days late: after the due date (0 when on time); with no plan yet
    -- and the due date passed, the days outstanding so far; null when not yet due.
    case
        when not is_pathway_plan_timeliness_measurable then null
        when first_plan_date is not null then greatest(first_plan_date - statutory_due_date, 0)
        when extract_date > statutory_due_date then extract_date - statutory_due_date
    end                                                             as statutory_days_late,
    case
        when not is_pathway_plan_timeliness_measurable then null
        when first_plan_date is not null then first_plan_date <= statutory_due_date
        when extract_date > statutory_due_date then false
    end                                                             as statutory_on_time,
    -- Local practice standard: started within the window before the 16th birthday.
    case
        when not is_pathway_plan_timeliness_measurable then null
        when first_plan_date is not null then greatest(first_plan_date - sixteenth_birthday, 0)
        when extract_date > sixteenth_birthday then extract_date - sixteenth_birthday
    end                                                             as practice_days_late,
    case
        when not is_pathway_plan_timeliness_measurable then null
        when first_plan_date is not null
            then first_plan_date between practice_window_start_date and sixteenth_birthday
        when extract_date > sixteenth_birthday then false
    end                                                             as practice_standard_met,
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
from due
