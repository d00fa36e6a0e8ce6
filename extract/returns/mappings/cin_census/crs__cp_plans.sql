-- crs__cp_plans from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
select p.LAchildID || '/' || p.CINdetailsID || '/P' || p.CPPID as cp_plan_id, p.LAchildID as person_id,
       coalesce((select s.LAchildID || '/' || s.CINdetailsID || '/S' || s.Section47ID || '/ICPC'
                 from raw.cin_census__section47s s
                 where s._extract_date = %(extract_date)s::date and s.LAchildID = p.LAchildID
                   and s.CINdetailsID = p.CINdetailsID and s.DateOfInitialCPC = p.CPPstartDate
                 order by s.Section47ID::int limit 1),
                (select d.LAchildID || '/' || d.CINdetailsID || '/ICPC' from raw.cin_census__cin_details d
                 where d._extract_date = %(extract_date)s::date and d.LAchildID = p.LAchildID
                   and d.CINdetailsID = p.CINdetailsID and d.DateOfInitialCPC = p.CPPstartDate),
                '') as icpc_id,
       p.CPPstartDate as start_date, coalesce(p.CPPendDate, '') as end_date,
       p.InitialCategoryOfAbuse as initial_category,
       p._source_file, p._row_number as _source_row
from raw.cin_census__cp_plans p where p._extract_date = %(extract_date)s::date
