"""The raw zone's bookkeeping tables: the load manifest and the quarantine.

The loader (extract/load.py) records every file it sees in ``raw.load_manifest`` and every row it
holds back in ``raw.quarantine``. The tables are declared here, in the database layer, because
``safeguarding roles`` (warehouse/roles.py) creates them before the first load, so the auditors'
grant on the manifest is in place from the start; the loader creates them too when they are missing.
"""

RAW_DDL = """
-- Only when missing: a pipeline role may use the schema without the right to create schemas.
do $$ begin if not exists (select 1 from pg_namespace where nspname = 'raw') then create schema raw; end if; end $$;
create table if not exists raw.load_manifest (
    batch_id      bigserial primary key,
    feed          text        not null,
    extract_date  date        not null,
    source_file   text        not null,
    file_sha256   text        not null,
    file_bytes    bigint      not null,
    status        text        not null check (status in ('loading', 'loaded', 'replaced', 'duplicate', 'rejected', 'failed')),
    rows_loaded   bigint,
    message       text,
    received_at   timestamptz not null default now(),
    finished_at   timestamptz
);
alter table raw.load_manifest add column if not exists rows_quarantined bigint;
alter table raw.load_manifest add column if not exists file_encoding text;
-- retention (pipeline/retention.py): rows later removed from the batch, and when the whole batch was dropped
alter table raw.load_manifest add column if not exists rows_expired bigint;
alter table raw.load_manifest add column if not exists expired_at timestamptz;
comment on table raw.load_manifest is
    'Every file the extract layer has seen and what became of it: loaded, replaced by a re-delivery, duplicate, rejected or failed (with the reason).';
create table if not exists raw.quarantine (
    batch_id        bigint      not null,
    feed            text        not null,
    extract_date    date        not null,
    source_file     text        not null,
    row_number      bigint      not null,
    line_number     bigint      not null,
    column_name     text,
    reason          text        not null,
    original_line   text        not null,
    quarantined_at  timestamptz not null default now()
);
create index if not exists quarantine__feed_extract_date on raw.quarantine (feed, extract_date);
comment on table raw.quarantine is
    'Rows held back at load time, one row per problem: the reason, the column, the line of the file and the row as delivered (its fields re-joined as CSV). Rows of batches that were later replaced stay, for the record: raw.quarantine_current shows the published batches only.';
-- Where the row is in the file the council handed over, when that is not source_file itself
-- (a converted XML or workbook, a row mapped from a return): extract/returns/origins.py.
alter table raw.quarantine add column if not exists origin_file text;
alter table raw.quarantine add column if not exists origin_location text;
create or replace view raw.quarantine_current as
    select q.* from raw.quarantine q join raw.load_manifest m using (batch_id) where m.status = 'loaded';
"""
