-- crs__referrals from the CIN census's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/cin_census.py; how to write one: extract/returns/__init__.py).
-- A CINdetails block's id (its referral's) is the child and its position, e.g. C123/2.
-- A census flag is yes when it is true, TRUE or 1 (the schema's yesnotype).
select d.LAchildID || '/' || d.CINdetailsID as referral_id, d.LAchildID as person_id, '' as contact_id,
       d.CINreferralDate as referral_date, d.ReferralSource as referral_source,
       case when (d.ReferralNFA in ('true', 'TRUE', '1')) then 'Y' else 'N' end as referral_nfa, '' as team,
       d._source_file, d._row_number as _source_row
from raw.cin_census__cin_details d where d._extract_date = %(extract_date)s::date
