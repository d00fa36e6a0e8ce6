-- crs__missing_episodes from the SSDA903's raw tables, for the collection date being imported
-- (the mapping is declared in extract/returns/ssda903.py; how to write one: extract/returns/__init__.py).
select m.CHILD || '/' || coalesce(to_char(to_date(nullif(trim(m.MIS_START), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') as episode_id, m.CHILD as person_id,
       m.MISSING as missing_type, coalesce(to_char(to_date(nullif(trim(m.MIS_START), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') || ' 00:00' as missing_start,
       case when nullif(trim(m.MIS_END), '') is null then ''
            else coalesce(to_char(to_date(nullif(trim(m.MIS_END), ''), 'DD/MM/YYYY'), 'YYYY-MM-DD'), '') || ' 00:00' end as missing_end,
       'Y' as looked_after, 'NOT_RECORDED' as team,
       m._source_file, m._row_number as _source_row
from raw.ssda903__missing m where m._extract_date = %(extract_date)s::date
