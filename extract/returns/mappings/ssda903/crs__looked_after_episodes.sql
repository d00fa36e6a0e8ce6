-- crs__looked_after_episodes from the SSDA903's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/ssda903.py; how to write one: extract/returns/__init__.py).
select e.CHILD || '/' || coalesce(to_char(to_date(nullif(trim(e.DECOM), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') as la_episode_id, e.CHILD as person_id,
       coalesce(to_char(to_date(nullif(trim(e.DECOM), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') as start_date, coalesce(to_char(to_date(nullif(trim(e.DEC), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') as end_date,
       e.RNE as reason_new_episode, e.LS as legal_status, e.PLACE as placement_type,
       coalesce(e.REC, '') as reason_episode_ceased, coalesce(e.PL_POST, '') as placement_postcode,
       e._source_file, e._row_number as _source_row
from raw.ssda903__episodes e where e._extract_date = %(extract_date)s::date
