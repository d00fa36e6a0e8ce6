-- crs__cin_episodes from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
select d.LAchildID || '/' || d.CINdetailsID as cin_episode_id, d.LAchildID as person_id,
       d.LAchildID || '/' || d.CINdetailsID as referral_id,
       d.CINreferralDate as start_date, coalesce(d.CINclosureDate, '') as end_date,
       coalesce(nullif(d.PrimaryNeedCode, ''), 'N0') as primary_need,
       coalesce(d.ReasonForClosure, '') as closure_reason,
       d._source_file, d._row_number as _source_row
from raw.cin_census__cin_details d where d._extract_date = %(extract_date)s::date
