-- crs__assessments from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
select a.LAchildID || '/' || a.CINdetailsID || '/A' || a.AssessmentID as assessment_id, a.LAchildID as person_id,
       a.LAchildID || '/' || a.CINdetailsID as referral_id, a.AssessmentActualStartDate as start_date,
       coalesce(a.AssessmentAuthorisationDate, '') as authorised_date,
       case when c.LAchildID is not null and (nullif(c.PersonBirthDate, '') is null
                 or c.PersonBirthDate::date > a.AssessmentActualStartDate::date)
            then 'Y' else 'N' end as is_pre_birth,
       '' as team, a._source_file, a._row_number as _source_row
from raw.cin_census__assessments a
left join raw.cin_census__children c on c._extract_date = %(extract_date)s::date and c.LAchildID = a.LAchildID
where a._extract_date = %(extract_date)s::date
