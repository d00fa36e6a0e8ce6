{#-
  One row per contact to the front door, with whether it was decided within
  var('contact_decision_hours') (24) real hours of receipt, inclusive: a decision exactly
  24:00 later counts. A contact still undecided is outside the denominator until its 24
  hours have passed by the end of the extract day; after that it counts as late.
-#}
with contacts as (
    select * from {{ ref('stg_crs__contacts') }}
),

as_at as (
    -- end of the extract day, London time, as an instant
    select (({{ extract_as_at(ref('stg_crs__contacts')) }} + 1)::timestamp
            at time zone '{{ var("source_time_zone") }}') as extract_end_at
),

measured as (
    select
        contacts.*,
        contacts.decision_at is not null
            or contacts.contact_at + make_interval(hours => {{ var('contact_decision_hours') }}) < as_at.extract_end_at
            as in_denominator
    from contacts cross join as_at
)

select
    {{ pseudonymise('contact_id', 'contact') }}                  as contact_key,
    {{ pseudonymise('person_id', 'person') }}                    as person_key,
    contact_at,
    {{ local_month('contact_at') }}                              as contact_month,
    contact_source,
    decision_at,
    decision,
    decision_at is not null                                      as is_decided,
    {{ hours_between('contact_at', 'decision_at') }}             as hours_to_decision,
    in_denominator,
    case when in_denominator
         then {{ within_hours('contact_at', 'decision_at', var('contact_decision_hours')) }} end
                                                                 as decided_within_24h
from measured
