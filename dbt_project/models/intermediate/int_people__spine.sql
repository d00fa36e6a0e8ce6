{#-
  The person spine: which council (case recording system) child each identity in each
  feed is. One row per (source_system, source_person_reference):

    crs       the council's own person id (always itself);
    police    the police's person reference, matched by the council person id the police
              give (shared through the MASH), else by NHS number when exactly one council
              child has it, else (no identifier at all) by date of birth together with a
              council missing episode at the same time (a duplicate record is no episode),
              when exactly one child fits both.
              A police reference inherits the match of any of its notifications
              ("police_reference"); two different council children for one police
              reference is a conflict and is NOT matched.
    provider  the council person id the provider gives, checked against the council's people.

  Date of birth is never used alone to match (children share birthdays); a match whose
  date of birth disagrees is kept and flagged for the data team to check.
  person_key = pseudonymise(person_id, 'person') for matched children, the key every mart
  uses; an unmatched police child gets pseudonymise(police reference, 'police_person'), so
  the child can still be counted (and followed across episodes) without a council record.
-#}
with stg_provider__return_interviews as (
    select * from {{ ref('stg_provider__return_interviews') }}
),

people as (
    select person_id, nhs_number, date_of_birth from {{ ref('stg_crs__people') }}
),

-- An NHS number identifies a council child only if exactly one child has it.
unique_nhs_numbers as (
    select nhs_number, min(person_id) as person_id
    from people
    where nhs_number is not null
    group by nhs_number
    having count(*) = 1
),

notifications as (
    select * from {{ ref('stg_police__missing_notifications') }}
),

-- Each notification's candidate council child, by the strongest identifier it carries.
by_identifier as (
    select
        n.notification_id,
        n.police_person_reference,
        n.crs_person_id,
        n.nhs_number,
        n.date_of_birth,
        n.reported_missing_at,
        n.found_at,
        coalesce(by_id.person_id, by_nhs.person_id) as candidate_person_id,
        case when by_id.person_id is not null then 'crs_person_id'
             when by_nhs.person_id is not null then 'nhs_number' end as candidate_method
    from notifications n
    left join people by_id on by_id.person_id = n.crs_person_id
    left join unique_nhs_numbers by_nhs on by_nhs.nhs_number = n.nhs_number
),

-- With no identifier: the date of birth AND a council missing episode of that child at the same
-- time, when exactly one council child fits both (its own model, which says why).
by_birth_and_episode as (
    select * from {{ ref('int_people__police_matched_by_birth_and_episode') }}
),

notification_candidates as (
    select
        n.notification_id,
        n.police_person_reference,
        n.crs_person_id,
        n.nhs_number,
        n.date_of_birth,
        coalesce(n.candidate_person_id, b.person_id) as candidate_person_id,
        coalesce(n.candidate_method,
                 case when b.person_id is not null then 'date_of_birth_and_episode' end) as candidate_method
    from by_identifier n
    left join by_birth_and_episode b using (notification_id)
),

police_references as (
    select
        police_person_reference,
        count(*)                                                   as source_record_count,
        count(distinct candidate_person_id)                        as candidate_count,
        min(candidate_person_id)                                   as candidate_person_id,
        bool_or(candidate_method = 'crs_person_id')                as any_by_crs_person_id,
        bool_or(candidate_method = 'nhs_number')                   as any_by_nhs_number,
        bool_or(candidate_method = 'date_of_birth_and_episode')    as any_by_birth_and_episode,
        bool_or(candidate_method is null)                          as any_without_match,
        bool_or(crs_person_id is not null)                         as any_crs_person_id_given,
        bool_or(nhs_number is not null)                            as any_nhs_number_given,
        min(date_of_birth)                                         as police_date_of_birth
    from notification_candidates
    group by police_person_reference
),

police_spine as (
    select
        'police'                                                   as source_system,
        r.police_person_reference                                  as source_person_reference,
        case when r.candidate_count = 1 then r.candidate_person_id end as person_id,
        case
            when r.candidate_count <> 1 then null
            when r.any_by_crs_person_id and not r.any_without_match then 'crs_person_id'
            when r.any_by_nhs_number and not r.any_by_crs_person_id and not r.any_by_birth_and_episode
                 and not r.any_without_match then 'nhs_number'
            when r.any_by_birth_and_episode and not r.any_by_crs_person_id and not r.any_by_nhs_number
                 and not r.any_without_match then 'date_of_birth_and_episode'
            else 'police_reference'
        end                                                        as match_method,
        case
            when r.candidate_count > 1 then 'conflicting_matches'
            when r.candidate_count = 1 then null
            when r.any_crs_person_id_given then 'crs_person_id_not_found'
            when r.any_nhs_number_given then 'nhs_number_not_found_or_not_unique'
            else 'no_shared_identifier'
        end                                                        as unmatched_reason,
        r.police_date_of_birth,
        r.source_record_count
    from police_references r
),

provider_spine as (
    select
        'provider'                                                 as source_system,
        p.crs_person_id                                            as source_person_reference,
        people.person_id,
        case when people.person_id is not null then 'crs_person_id' end as match_method,
        case when people.person_id is null then 'crs_person_id_not_found' end as unmatched_reason,
        null::date                                                 as police_date_of_birth,
        count(*)                                                   as source_record_count
    from stg_provider__return_interviews p
    left join people on people.person_id = p.crs_person_id
    group by p.crs_person_id, people.person_id
),

crs_spine as (
    select
        'crs'                                                      as source_system,
        person_id                                                  as source_person_reference,
        person_id,
        'crs_person_id'                                            as match_method,
        null::text                                                 as unmatched_reason,
        null::date                                                 as police_date_of_birth,
        1::bigint                                                  as source_record_count
    from people
),

spine as (
    select * from crs_spine
    union all
    select * from police_spine
    union all
    select * from provider_spine
)

select
    spine.source_system,
    spine.source_person_reference,
    spine.person_id,
    spine.person_id is not null                                    as is_matched,
    spine.match_method,
    spine.unmatched_reason,
    -- A police date of birth that disagrees with the council's: kept, flagged for checking.
    coalesce(spine.police_date_of_birth <> people.date_of_birth, false) as date_of_birth_disagrees,
    spine.source_record_count,
    case
        when spine.person_id is not null then {{ pseudonymise('spine.person_id', 'person') }}
        when spine.source_system = 'police' then {{ pseudonymise('spine.source_person_reference', 'police_person') }}
        else {{ pseudonymise('spine.source_person_reference', 'person') }}
    end                                                            as person_key
from spine
left join people on people.person_id = spine.person_id
