-- crs__icpcs from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
with conferences as (
    select s.LAchildID, s.LAchildID || '/' || s.CINdetailsID || '/S' || s.Section47ID || '/ICPC' as icpc_id,
           s.LAchildID || '/' || s.CINdetailsID || '/S' || s.Section47ID as s47_id, s.DateOfInitialCPC as icpc_date,
           s._source_file, s._row_number
    from raw.cin_census__section47s s
    where s._extract_date = %(extract_date)s::date and nullif(s.DateOfInitialCPC, '') is not null
    union all
    select d.LAchildID, d.LAchildID || '/' || d.CINdetailsID || '/ICPC', '', d.DateOfInitialCPC, d._source_file,
           d._row_number
    from raw.cin_census__cin_details d
    where d._extract_date = %(extract_date)s::date and nullif(d.DateOfInitialCPC, '') is not null
      and not exists (select 1 from raw.cin_census__section47s s
                      where s._extract_date = %(extract_date)s::date and s.LAchildID = d.LAchildID
                        and s.CINdetailsID = d.CINdetailsID
                        and s.DateOfInitialCPC = d.DateOfInitialCPC)
)
select i.icpc_id, i.LAchildID as person_id, i.s47_id, i.icpc_date,
       case when exists (select 1 from raw.cin_census__cp_plans p
                         where p._extract_date = %(extract_date)s::date and p.LAchildID = i.LAchildID
                           and p.CPPstartDate = i.icpc_date)
            then 'Y' else 'N' end as cp_plan_required,
       i._source_file, i._row_number as _source_row
from conferences i
