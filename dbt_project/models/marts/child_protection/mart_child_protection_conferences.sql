{#-
  One row per initial child protection conference (ICPC), counted from the conferences
  themselves (docs/marts.md, "Count each event from its own record"): whether or not a section
  47 enquiry is linked to it. A transfer-in conference has none, and the CIN census records
  DateOfInitialCPC at CINdetails level too; a conference with no enquiry is still a conference,
  and the missing link is itself reported (s47_link).

  s47_link:
    FIRST_FOR_S47   the first conference of a linked enquiry: the one whose timeliness
                    (15 working days from the strategy discussion) mart_child_protection_s47_enquiries measures;
    LATER_FOR_S47   a later conference naming the same enquiry;
    NO_S47          no enquiry named;
    S47_NOT_FOUND   an enquiry is named but the extract does not hold it.
-#}
with icpcs as (
    select * from {{ ref('stg_crs__icpcs') }}
),

enquiries as (
    select s47_id from {{ ref('stg_crs__s47_enquiries') }}
),

measurability as (
    select {{ is_measurable('conferences') }} as is_conferences_measurable
),

linked as (
    select
        icpcs.*,
        enquiries.s47_id is not null as s47_found,
        row_number() over (partition by icpcs.s47_id order by icpcs.icpc_date, icpcs.icpc_id) as conference_of_s47
    from icpcs
    left join enquiries using (s47_id)
)

select
    {{ pseudonymise('icpc_id', 'icpc') }}                        as icpc_key,
    {{ pseudonymise('person_id', 'person') }}                    as person_key,
    icpc_date,
    date_trunc('month', icpc_date)::date                         as icpc_month,
    case when s47_id is not null then {{ pseudonymise('s47_id', 's47_enquiry') }} end as s47_key,
    case
        when s47_id is null then 'NO_S47'
        when not s47_found then 'S47_NOT_FOUND'
        when conference_of_s47 = 1 then 'FIRST_FOR_S47'
        else 'LATER_FOR_S47'
    end                                                          as s47_link,
    is_cp_plan_required,
    measurability.is_conferences_measurable
from linked
cross join measurability
