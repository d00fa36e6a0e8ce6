{#-
  One row per contact to the front door, with whether it was decided within
  var('contact_decision_hours') (24) real hours of receipt, inclusive: a decision exactly
  24:00 later counts. A contact still undecided while its 24 hours run past the end of the
  extract day is PENDING (macros/pending.sql): outside the denominator until decided or the
  24 hours pass; after that it counts as late. A decision recorded before the contact gives
  no hours (never a negative duration) and is not timely.
-#}
with contacts as (
    select * from {{ ref('stg_crs__contacts') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__contacts')) }} as extract_date
),

measured as (
    -- THE pending rule (macros/pending.sql): undecided with its 24 hours still running at the
    -- end of the extract day is pending, not late.
    select
        contacts.*,
        {{ timeliness_status('contacts.decision_at',
                             within_hours('contacts.contact_at', 'contacts.decision_at', var('contact_decision_hours')),
                             'contacts.contact_at + make_interval(hours => ' ~ var('contact_decision_hours') ~ ')',
                             'as_at.extract_date') }} as decision_status
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
    decision_status,
    decision_status <> 'PENDING'                                 as in_denominator,
    {{ met_from_status('decision_status') }}                     as decided_within_24h
from measured
