{#-
  One row per section 47 enquiry, dated from its strategy discussion, with the first ICPC
  that followed it (ICPCs are linked by their s47_id).

  * ICPC timeliness: the ICPC is within var('icpc_working_days') (15) working days of the
    strategy discussion, counted as the CIN census validator counts (start day = day one).
    Status by THE pending rule (macros/pending.sql), for the enquiries that held or need a
    conference: an ICPC held by its due date is MET, later MISSED; no ICPC yet and the due
    date after the extract date: PENDING (outside numerator and denominator); an enquiry
    concluded as needing one (AWAITING_ICPC) with the due date passed: MISSED. An enquiry that
    concluded without needing one is outside the measure, and so is one still open past its
    due date (whether it needs a conference is not known yet; s47_outcome OPEN shows it).
    Reported by strategy discussion month, the month its 15-working-day clock started.
    Conferences are counted from the conferences (mart_child_protection_conferences), linked
    to an enquiry or not.
  * Never reaching ICPC: an enquiry that concluded (outcome_date) with no ICPC. Enquiries
    still open, or concluded as needing an ICPC not yet held, are not known yet: outcome
    `OPEN` / `AWAITING_ICPC`, null in never_reached_icpc and outside that denominator.
  Without the ICPCs feed (measure 'icpc', macros/measurability.sql; e.g. a council sending
  only Annex A) whether an ICPC followed is not known: s47_outcome and never_reached_icpc
  are null, not "concluded with no ICPC", and is_icpc_measurable is false.
-#}
with enquiries as (
    select * from {{ ref('stg_crs__s47_enquiries') }}
),

as_at as (
    select {{ extract_as_at(ref('stg_crs__s47_enquiries')) }} as extract_date
),

first_icpc as (
    select distinct on (s47_id) s47_id, icpc_id, icpc_date, is_cp_plan_required
    from {{ ref('stg_crs__icpcs') }}
    where s47_id is not null
    order by s47_id, icpc_date, icpc_id
),

measurability as (
    select {{ is_measurable('icpc') }} as is_icpc_measurable
),

joined as (
    select
        enquiries.*,
        measurability.is_icpc_measurable,
        first_icpc.icpc_date,
        first_icpc.is_cp_plan_required,
        case
            when first_icpc.icpc_id is not null then 'ICPC_HELD'
            when enquiries.outcome_date is null then 'OPEN'
            when enquiries.is_icpc_required then 'AWAITING_ICPC'
            else 'CONCLUDED_NO_ICPC'
        end as s47_outcome
    from enquiries
    left join first_icpc using (s47_id)
    cross join measurability
),

-- The working-day rule (macros/timeliness.sql), computed incrementally in the memo model
-- int_child_protection__icpc_timeliness (macros/incremental_memo.sql)
timeliness as (
    {{ memoised_results('int_child_protection__icpc_timeliness', 'joined',
                        icpc_timeliness_input_columns(), icpc_timeliness_results()) }}
)

select
    {{ pseudonymise('s47_id', 's47_enquiry') }}                 as s47_key,
    {{ pseudonymise('person_id', 'person') }}                   as person_key,
    strategy_discussion_date,
    date_trunc('month', strategy_discussion_date)::date         as strategy_discussion_month,
    outcome_date,
    is_icpc_required,
    {{ when_measurable('is_icpc_measurable', 's47_outcome') }}  as s47_outcome,
    icpc_date,
    date_trunc('month', icpc_date)::date                        as icpc_month,
    timeliness.icpc_due_date,
    timeliness.working_days_to_icpc,
    statuses.icpc_timeliness_status,
    {{ met_from_status('statuses.icpc_timeliness_status') }}      as icpc_within_15_working_days,
    case when is_icpc_measurable
         then case s47_outcome when 'ICPC_HELD' then false when 'CONCLUDED_NO_ICPC' then true end
    end                                                         as never_reached_icpc,
    is_cp_plan_required,
    is_icpc_measurable
from joined
left join timeliness
    on timeliness.input_key = {{ memo_input_key(icpc_timeliness_input_columns(), relation='joined') }}
cross join as_at
cross join lateral (
    -- THE pending rule (macros/pending.sql), for the enquiries that held or need a conference
    select case
        when not joined.is_icpc_measurable or joined.s47_outcome = 'CONCLUDED_NO_ICPC' then null
        when joined.s47_outcome = 'OPEN'
             and not {{ window_still_open('timeliness.icpc_due_date', 'as_at.extract_date', deadline_is_date=true) }}
            then null
        else {{ timeliness_status('joined.icpc_date', 'timeliness.icpc_within_15_working_days',
                                  'timeliness.icpc_due_date', 'as_at.extract_date', deadline_is_date=true) }}
    end as icpc_timeliness_status
) as statuses
