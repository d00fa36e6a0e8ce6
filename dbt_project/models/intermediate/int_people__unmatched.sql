-- Identities in the partner feeds that could not be matched to a council child, and why
-- (see int_people__spine). The data team works through these with the police and the
-- provider; each unmatched police child is still counted in the missing marts.
select
    source_system,
    source_person_reference,
    unmatched_reason,
    source_record_count
from {{ ref('int_people__spine') }}
where not is_matched
