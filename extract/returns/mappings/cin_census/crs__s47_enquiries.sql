-- crs__s47_enquiries from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
-- A census flag is yes when it is true, TRUE or 1 (the schema's yesnotype).
select s.LAchildID || '/' || s.CINdetailsID || '/S' || s.Section47ID as s47_id, s.LAchildID as person_id,
       s.LAchildID || '/' || s.CINdetailsID as referral_id, s.S47ActualStartDate as strategy_discussion_date,
       case when (s.ICPCnotRequired in ('true', 'TRUE', '1')) then 'N' else 'Y' end as icpc_required,
       case when nullif(s.DateOfInitialCPC, '') is not null then s.DateOfInitialCPC
            when (s.ICPCnotRequired in ('true', 'TRUE', '1'))
            then coalesce(nullif(d.CINclosureDate, ''), to_char(%(extract_date)s::date, 'YYYY-MM-DD'))
            else '' end as outcome_date,
       s._source_file, s._row_number as _source_row
from raw.cin_census__section47s s
left join raw.cin_census__cin_details d
       on d._extract_date = %(extract_date)s::date and d.LAchildID = s.LAchildID and d.CINdetailsID = s.CINdetailsID
where s._extract_date = %(extract_date)s::date
