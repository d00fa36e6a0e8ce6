-- crs__care_leavers from the SSDA903's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/ssda903.py; how to write one: extract/returns/__init__.py).
select o.CHILD as person_id,
       case when age(%(extract_date)s::date, to_date(o.DOB, 'DD/MM/YYYY')) < interval '18 years'
            then 'RELEVANT' else 'FORMER_RELEVANT' end as eligibility_category,
       '' as eligibility_date, '' as personal_adviser_id, o.IN_TOUCH as in_touch,
       o.ACTIV as activity, o.ACCOM as accommodation,
       case when o.ACTIV in ('F1', 'P1') then 'Y' else 'N' end as in_education,
       o._source_file, o._row_number as _source_row
from raw.ssda903__oc3 o where o._extract_date = %(extract_date)s::date
