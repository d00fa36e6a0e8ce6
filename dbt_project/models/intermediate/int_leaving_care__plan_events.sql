{#-
  Every needs assessment, pathway plan and pathway plan review, one row each, with the
  interval since the young person's previous plan or review. The review interval rule
  (at least every var pathway_plan_review_months) needs every event, not only the latest.
  Needs assessments carry no interval: only plans and reviews start the review clock.
-#}
with events as (
    select * from {{ ref('stg_crs__pathway_plan_events') }}
),

plans_and_reviews as (
    select
        event_id,
        lag(event_date) over (partition by person_id order by event_date, event_id) as previous_plan_or_review_date
    from events
    where event_type in ('PATHWAY_PLAN', 'PATHWAY_PLAN_REVIEW')
)

select
    events.event_id,
    events.person_id,
    events.event_type,
    events.event_date,
    events.event_type in ('PATHWAY_PLAN', 'PATHWAY_PLAN_REVIEW') as is_plan_or_review,
    plans_and_reviews.previous_plan_or_review_date,
    events.event_date - plans_and_reviews.previous_plan_or_review_date as days_since_previous_plan_or_review,
    -- The review was late: more than the review interval after the previous plan or review.
    coalesce(events.event_date > {{ add_months('plans_and_reviews.previous_plan_or_review_date',
                                               var('pathway_plan_review_months')) }}, false)
                                                                as later_than_review_interval
from events
left join plans_and_reviews using (event_id)
