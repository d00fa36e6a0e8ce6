-- crs__people from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- Assessment factor 9A: concerns as an unaccompanied asylum-seeking child (the census's only trace of UASC).
select c.LAchildID as person_id, '' as nhs_number, coalesce(c.PersonBirthDate, '') as date_of_birth,
       coalesce(c.ExpectedPersonBirthDate, '') as expected_date_of_birth,
       coalesce(nullif(c.GenderCurrent, ''),
                case upper(trim(coalesce(c.Sex, ''))) when 'M' then '1' when '1' then '1'
                     when 'F' then '2' when '2' then '2' when 'U' then '0' else nullif(c.Sex, '') end, '') as gender,
       coalesce(c.Ethnicity, '') as ethnicity,
       case when exists (select 1 from raw.cin_census__assessments a
                         where a._extract_date = %(extract_date)s::date and a.LAchildID = c.LAchildID
                           and '9A' = any(string_to_array(a.AssessmentFactors, ' ')))
            then 'Y' else 'N' end as uasc,
       '' as postcode, c._source_file, c._row_number as _source_row
from raw.cin_census__children c where c._extract_date = %(extract_date)s::date
