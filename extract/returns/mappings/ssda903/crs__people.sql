-- crs__people from the SSDA903's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/ssda903.py; how to write one: extract/returns/__init__.py).
-- SEX is 1 or 2 to 2023-24 and M, F or U from 2024-25 (extract/code_lists.py, SEXES): as GenderCurrent's 1, 2, 0.
select h.CHILD as person_id, '' as nhs_number, coalesce(to_char(to_date(nullif(trim(h.DOB), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') as date_of_birth,
       '' as expected_date_of_birth,
       case upper(trim(h.SEX)) when 'M' then '1' when 'F' then '2' when 'U' then '0' else h.SEX end as gender,
       coalesce(h.ETHNIC, '') as ethnicity,
       case when exists (select 1 from raw.ssda903__uasc u where u._extract_date = %(extract_date)s::date and u.CHILD = h.CHILD)
            then 'Y' else 'N' end as uasc,
       '' as postcode, h._source_file, h._row_number as _source_row
from raw.ssda903__header h where h._extract_date = %(extract_date)s::date
