"""docs/feeds.md, written from the feed declarations (extract/feeds.py, extract/code_lists.py).

The reference part (one section per feed, the code lists) is generated, so it cannot drift
from the declarations; the introduction below is the hand-written part. ``make declared``
(``python -m extract.declared``) writes the file with every other generated one.
"""

from __future__ import annotations

from . import code_lists
from . import feeds
from synthetic.generate import FILE_DEFECTS, ROW_DEFECTS, SCALES

INTRO = """\
# Feeds: what arrives each night, and how it is loaded

Every feed is declared once, in `extract/feeds.py`: its file, columns, types, codes, key and
whether each extract is a full snapshot or only what changed; each code list once, with its
source, in `extract/code_lists.py`. The loader, the generator, the raw-zone expectations, dbt's
sources, the staging models' casts (macro `typed`) and `accepted_values` tests, and this page all
come from those declarations; there are no per-file loaders. Onboarding a feed is adding a `Feed` there, its staging model in dbt, and
`make declared` (docs/operations.md, "Adding a feed").

## Where files land

A landing folder per source system and extract date, the nightly file drop:

    <landing>/<source>/<YYYY-MM-DD>/<file name>        e.g. landing/crs/2026-11-22/missing_episodes.csv

`<landing>` is `SAFEGUARDING_LANDING_DIR` (default `.local/landing`). The extract date is the
day the data is *as at* (the night's DAG run on 23 November processes the 22 November drop).
A file should be written aside and renamed into place by the sender; the loader reads a file
only once every feed of the night has arrived (until then the extract task waits and retries).

### Feeds from a source database instead of files

For a council whose system can be queried directly, a feed can come from a SQL query through
an Airflow connection. A YAML file named by `SAFEGUARDING_SQL_SOURCES` lists those feeds:

```yaml
feeds:
  crs__contacts:
    conn_id: crs_source          # Airflow connection, e.g. AIRFLOW_CONN_CRS_SOURCE=postgresql://reader:...@crs-db/crs
    query: >
      select 'C' || id as contact_id, 'P' || person as person_id,
             to_char(received, 'YYYY-MM-DD HH24:MI') as contact_at, source as contact_source,
             to_char(decided, 'YYYY-MM-DD HH24:MI') as decision_at, outcome as decision,
             to_char(updated, 'YYYY-MM-DD HH24:MI') as updated_at
      from contact
      where updated::date > {since} and updated::date <= {extract_date}
```

The query returns the feed's columns by name, formatted as in the conventions below.
`{extract_date}` and `{since}` become SQL date literals; `{since}` is the last extract date
already loaded for the feed (`'-infinity'` before the first), which is what an incremental
feed needs. The extract task runs `COPY (query) TO STDOUT` through the connection's
`PostgresHook`, streams the result into the landing folder at the path a delivered file would
have, and loads that file exactly as a delivered one (same checks, quarantine, lineage and
manifest). A re-run of a past night reloads the file that night extracted; delete the file to
query the source again. Feeds not listed arrive as files.

## Conventions for every feed

* CSV (RFC 4180 quoting), comma-delimited, a header row naming the columns. Columns are
  matched by name, so their order does not matter; a missing, unknown or repeated column
  rejects the file.
* Encoding: UTF-8 with or without a byte-order mark, or Windows-1252 (what Excel and many
  council systems export; the pound sign is byte 0xA3). The loader tells them apart by
  reading the whole file (a file that is valid UTF-8 is read as UTF-8). Line ends LF or CRLF.
  The file must end with a line break: a file whose last line is cut off is a truncated
  delivery. A UTF-16 or UTF-32 file (Excel's "Unicode text", with or without a byte-order
  mark) and a binary file (a workbook, an archive) are rejected, naming the encoding or what the
  file looks like.
* A value may be at most 128 KiB (131,072 bytes: `MAX_FIELD_BYTES` in extract/load.py, the
  limit of Python's `csv` module, which the partners' tools and ours read these files with). No
  column is free text anywhere near that long; a longer value nearly always means a stray quote
  joined many lines into one field. Its row is quarantined with the reason (column and length),
  like any bad value, so every row the warehouse keeps can be read by a standard CSV reader.
* Dates `YYYY-MM-DD`; date-times `YYYY-MM-DD HH:MM` in London local time (staging converts them
  to instants, so elapsed hours are right across clock changes); numbers with a decimal point
  and no thousands separator; flags `Y`/`N`. Empty means unknown (or "not yet", e.g. an open
  episode's end).
* Codes: each coded column lists its codes below. Field names and codes follow public
  standards where one has the field, so analysts recognise them; the *Standard* column says
  which field:
  * **SSDA903**: the DfE's looked-after children return (episodes, legal status `LS`,
    placement `PLACE`, reason for new episode `RNE`, reason episode ceased `REC`, the missing
    table's `MISSING`/`MIS_START`/`MIS_END`, care leaver fields `IN_TOUCH`/`ACTIV`/`ACCOM`
    from the OC3 table, `UASC`).
  * **CIN**: the Children in Need census (referral source, `ReferralNFA`, primary need codes
    N0-N9, closure reasons RC1-RC9, assessment and section 47 dates, category of abuse,
    `GenderCurrent` 0/1/2/9, ethnicity codes shared with SSDA903).
  * **Annex A**: Ofsted's inspection lists (list 8: return home interviews).
  * **CSWW**: the DfE's children's social work workforce census (FTE, case holders,
    role groupings, reasons for leaving).
  * **SSD**: Data to Insight's Standard Safeguarding Dataset (person id, NHS number).
  Codes with no national list (contact decisions, RHI outcomes, service areas, trackers)
  are this project's, chosen from picklists seen in councils and documented here.

## Snapshot and incremental feeds

* **Snapshot** feeds (most): each extract is the whole table as at the extract date. Staging
  reads the night's batch: `where _extract_date = <extract date>`. An empty snapshot (header
  only) is rejected: it means the export failed, not that nothing exists.
* **Incremental** feeds (`crs__contacts`, `crs__visits`): each extract holds the rows created
  or changed since the previous one, with the source's `updated_at`. The first delivery holds
  every row. A header-only file is a night with no changes and loads as an empty batch.
  Raw keeps every batch (one partition per extract date). **Contract for staging:** the
  current state is the latest version of each key over all batches up to the extract date:

      select distinct on (key) * from raw.<feed>
      where _extract_date <= <extract date>
      order by key, updated_at desc, _batch_id desc

  (`dbt_project/macros/incremental_feeds.sql`, `latest_version_of_each_key`, does this.)
  A corrected re-delivery of a night replaces that night's batch only.
  **A rejected delta holds the later nights back.** A night's delta that was rejected (or whose
  load failed) and never loaded since would be lost for good: the next delta does not repeat its
  changes. So the extract step of every later night loads its files, then fails (the night is
  held back, `dq.nightly_runs` and the quality report say why) naming the feed and the missing
  night, until that night's file (its delta, or a full extract) is re-delivered and the night
  re-run: `crs__contacts: the delivery of 2026-11-21 was refused and has not been loaded since
  (...)` (`missing_deltas` in extract/load_night.py). Feeds from a source database are not held:
  their query asks for everything since the last night loaded.
* **HR** feeds are snapshots that each hold twelve month-end snapshots (`snapshot_date`), so
  a single delivery gives the year's trend.

## Reference data: the council's service areas and teams

A council's structure is its reference data, not code: two CSV files in one folder,
`SAFEGUARDING_REFERENCE_DATA_DIR` (default `dbt_project/reference_data/`, the synthetic borough's):

* `service_areas.csv`: `service_area` (the code the HR and agency feeds write: upper-case letters,
  digits and underscores; not `ALL`, which the workforce marts' total rows use), `service_area_name`;
* `teams.csv`: `team` (as the feeds write it), `service_area` (declared in `service_areas.csv`).

To add a "0-25 SEN and Disability" service, add `SEN_AND_DISABILITY_0_25,0-25 SEN and Disability`
to `service_areas.csv` (and its teams to `teams.csv`), or point the variable at a folder of your
own. The loader accepts that code in `service_area` from then on (the codes below are read from
the file: `extract/reference_data.py`), dbt loads both files as seeds (`dbt_project.yml`'s
`seed-paths` read the same variable) and tests staging and the workforce marts against them,
and the generator draws its teams from `teams.csv`. A malformed file stops the run with an error
naming the file, line and column (e.g. `service_areas.csv: line 3, column service_area: 'A' is
already declared on line 2`), before anything is loaded. Set the variable for every process of
the pipeline (the DAG, dbt and the CLI read it from the environment).

## How a file is loaded (extract/load.py)

1. **One streaming pass** over the file: SHA-256, encoding (UTF-8 / BOM / Windows-1252), line
   count, whether it ends with a line break. Memory is constant (1 MB at a time).
2. **Same file again?** The same feed, extract date and SHA-256 as a loaded batch: recorded in
   the manifest as `duplicate`, not loaded again.
3. **File-level checks** (reject the whole file): empty file; not text (UTF-16 or UTF-32, named
   as such; binary data, a NUL byte); undecodable bytes (neither UTF-8
   nor Windows-1252); header with a missing, unknown or repeated column; wrong delimiter
   (a header split by `;`, tab or `|`); truncated (last line cut off); a snapshot with no rows.
   While loading, COPY rejects a line with too few or too many fields or an unterminated
   quote. A rejected file leaves everything loaded before untouched, is recorded in the
   manifest with the reason, and fails the extract task (no retries: bad data does not fix
   itself) with a message naming the file, line and column, e.g.

       landing/crs/2026-11-23/allocations.csv: line 1950, column worker_id: truncated file: ...
       landing/hr/2026-11-23/posts.csv: line 1 (header), column 1: wrong delimiter: the header is separated by semicolons (';') ...
       landing/crs/2026-11-23/missing_episodes.csv: line 7, column missing_type: missing data for column "missing_type"

   Every feed of the night is attempted, so one failed run lists every bad file.
4. **COPY** into a new table of its own for the batch (`raw.<feed>__batch_<id>`), in the
   file's encoding, with `FREEZE`. Lineage columns are constant defaults and the row number
   comes from a sequence, so there is no per-row work in Python and memory stays flat.
   A file of 64 MB or more is loaded **in two parts at once** (`LOAD_PARTS`, `PARTS_FROM_BYTES`
   in extract/load.py), each by a connection of its own, because PostgreSQL runs one COPY on
   one core: the checksum pass also finds where to cut (a line start outside any quoted
   field), each part is COPYed into a table whose row numbers start where a whole load's
   would, and each connection then checks its own part's values (step 5) and, once every part
   is in, one share of the keys (dealt out by key hash) across all parts for repeats. The parts
   become the partitions of the batch table (partitioned by row number). The result is the same
   as a whole load, row numbers, quarantine and error messages included
   (tests/test_extract_parts.py); a file whose quoted fields hold line breaks is loaded whole,
   as its row numbers cannot be known from its lines.
5. **Row-level checks in SQL** on the batch table (set-based, one scan plus one aggregate for
   duplicate keys), generated from the declaration: required value empty; not a date (format
   and a real calendar date, via `pg_input_is_valid`), date-time or number; unknown code or
   flag; duplicate key within the file (the first row loads, later ones are quarantined);
   end before start (`start_end` of the feed); a value over 128 KiB. Each problem becomes a row of
   `raw.quarantine` and the row is removed from the batch; the rest loads.
6. **Statistics**: `ANALYZE` of the batch (its parts too), before anyone can read it. The
   night's dbt build reads the batch seconds after the load, before autovacuum would have
   analyzed it, and without statistics PostgreSQL's planner guesses: a borough night's dbt
   build took 53 s instead of 10 with autovacuum off, and on the first night of a fresh
   warehouse `mart_pathway_plans` alone took 27 s instead of under one. It costs well under a
   second per file.
7. **Publish** in one short transaction: lock the feed's table, drop the partition of a
   previous batch for the same extract date (a corrected re-delivery: its manifest row
   becomes `replaced`), attach the new batch as the partition for the extract date, mark it
   `loaded`. Readers see the old batch or the new one, never part of either; a failure at any
   step leaves no half-loaded batch (the batch table is dropped, its quarantine rows deleted).

Requires PostgreSQL 16 or later (`pg_input_is_valid`); the embedded server is 18.

### Lineage on every raw row

| Column | Meaning |
|---|---|
| `_batch_id` | The load (a row of `raw.load_manifest`) |
| `_feed` | Feed id, `<source>__<entity>` |
| `_extract_date` | The extract date (the partition key) |
| `_source_file` | Path of the file loaded (for a SQL source: the file its result was spooled to) |
| `_file_sha256` | SHA-256 of the file's bytes |
| `_row_number` | Data row in the file: row *n* is on line *n* + 1 (line 1 is the header) |
| `_loaded_at` | When the batch was loaded |

### `raw.load_manifest`: every file seen and what became of it

`batch_id`, `feed`, `extract_date`, `source_file`, `file_sha256`, `file_bytes`,
`file_encoding` (`UTF8` or `WIN1252`; for a rejected UTF-16 file, `UTF-16LE` or `UTF-16BE`), `status`,
`rows_loaded`, `rows_quarantined`, `message`,
`received_at`, `finished_at`. Status is one of `loading` (in progress), `loaded` (the published
batch for its feed and date), `replaced` (by a corrected re-delivery), `duplicate` (same
content as a loaded batch), `rejected` (the message says why, with line and column) and
`failed` (interrupted or could not publish; safe to re-run).

**After a crash.** A load in progress holds a lock on its batch for as long as its database
session lives. When the loading process is killed or PostgreSQL stops mid-COPY, the row stays
`loading` and what the load had committed (the batch table after its COPY, the parts of a big
file) stays in `raw`, attached to nothing: no reader sees it. The next extract step (any
night's, or a returns import) finds each `loading` row whose lock is free, marks it `failed`
with the reason (`interrupted: the load stopped before it finished ...`), deletes its
quarantine rows and drops its tables, and drops any other table left by a batch that is
neither loading nor loaded; its log says so (`Recovered after a crash: ...`) and
`dq.recovered_loads` records each (extract/recovery.py). A load running at the same time holds
its lock and is left alone. Re-run the night that crashed to load its file.

### `raw.quarantine`: rows held back

One row per problem: `batch_id`, `feed`, `extract_date`, `source_file`, `row_number`,
`line_number`, `column_name`, `reason` (e.g. `referral_date: not a date (YYYY-MM-DD):
'2026-02-30'`, `missing_type: unknown code: 'X'`, `end before start: end_date 2025-06-01 before
start_date 2025-06-10`, `duplicate key (cp_plan_id=...): first delivered on line 58`),
`original_line` (the row's fields as delivered, re-joined as CSV: the same text as the line
unless the sender quoted fields that need no quotes), `quarantined_at`.
`raw.quarantine_current` shows only the rows of published batches. Quarantine holds raw
personal data: it is in the raw schema, with raw's access rules and retention.

## The synthetic generator (synthetic/generate.py)

`python -m synthetic.generate <landing> <YYYY-MM-DD> --scale tiny|borough|region [--seed N]
[--boroughs N] [--full] [--defects KIND[=FEED] ...] [--encoding utf-8|utf-8-sig|cp1252] [--crlf]`
(or `safeguarding generate`). Generated data only, never real children's data.
`--boroughs N` writes the first N boroughs of a scale (each borough has its own seed, so
`--scale region --boroughs 3` is the region's first three boroughs, row for row): the region
benchmark's 1, 3, 11 and 33 boroughs ([scale.md](scale.md)).

{scales}

At `borough` scale (seed 20261123, extract date 2026-11-22) the files hold, as at the extract
date: 755 children looked after (368 of them unaccompanied asylum seekers; the borough of docs/rules.md: 760 and
364), about 330 children on a child protection plan (about 400), 1,027 care leavers (about
800), 360 budgeted posts, about 2,500 open children-in-need episodes counting those on plans and
in care (1,800), and in the year to the extract date 12,000 contacts, 4,300 referrals and 950
missing episodes; 74,000 children over the eight years of history, 270,000 visits. It takes
about 16 s on an idle core. `tiny` takes about a second and has every feed non-empty (care
leavers around their 16th birthday, plans over two years and repeat plans, section 47s with and
without a conference, HR posts in every service area). `region` writes the 33 boroughs one
after another into the same files, each child's rows as soon as they are drawn, so memory
holds one borough's workforce and one child at a time: a region night is about 28 million rows
(2.0 GB) and takes some 10 minutes per night on an idle core.

The borough is simulated child by child: each child's journey (contacts, referral,
assessment, section 47, conference, plan, care, missing episodes, leaving care) is drawn whole
from its own seeded random stream, and an extract is what is known as at its date. So nights
agree about shared facts, and an incremental feed's delta is exactly what changed. The police
notify most of the council's missing episodes and some it never recorded (for children it
knows and children it does not); the provider returns interviews for the episodes it handled
and for some police-notified ones; agency workers cover vacant posts (`covering_post_id`).
Incremental feeds: the first delivery into a landing folder holds every row; a later date
holds the rows updated after the previous delivered date (`--full` forces everything).

Defect shapes every generated night holds, at every scale (each drawn from its own random stream,
so the rest of the night is as without them): a council missing episode recorded twice (same
child, same start; 2 %, the copy sometimes without the return and sometimes named by the RHI
form), a conference with no section 47 enquiry (a transfer-in; 1 % of referrals without one), a
leaving-care category recorded wrongly (3 % of care leavers, and half the children looked after
less than 13 weeks since 14 and still in care at 16 are recorded ELIGIBLE), a pathway plan dated
before the child was first looked after (2 %), and old history (journeys from 2009, at 3 % of
the daily rate, before the history window). Windows still open at the extract (returns in the
last 72 hours, contacts of the last day, assessments and conferences not yet due, plans not yet
due) arise on their own. The marts must count each right: docs/marts.md, "Rules that hold across
all measures". Recorded leaving-care categories follow the statute (`eligibility_date`, the same
rule as the warehouse's derivation) apart from the seeded wrong ones.

Seeded defects, off by default (`--defects all`, or kinds by name, each into its default
feed or `KIND=FEED`):

| Kind | Level | Default feed | What is spoiled |
|---|---|---|---|
{defects}

## Benchmark

{benchmark}

## The feeds

"""


def _codes(column: feeds.Column) -> str:
    if not isinstance(column.codes, code_lists.CodeList):
        # The council's service areas: its reference data, which differs between councils (and this page with it).
        return "the council's service areas (`service_areas.csv`, above)"
    return ", ".join(f"`{c}`" for c in column.codes)


def feed_section(feed: feeds.Feed) -> str:
    kind = "snapshot (each extract is the whole table)" if feed.snapshot else \
        "incremental (rows changed since the previous extract; latest `updated_at` wins)"
    lines = [
        f"#### `{feed.id}`",
        "",
        f"**What one row means:** {feed.description}",
        "",
        f"* File: `<landing>/{feed.source}/<YYYY-MM-DD>/{feed.file_name}`; raw table `{feed.raw_table}`",
        f"* Key: {', '.join(f'`{k}`' for k in feed.key)} (unique within one extract)",
        f"* Extract: {kind}",
    ]
    if feed.start_end:
        lines.append(f"* Order: `{feed.start_end[1]}` may not be before `{feed.start_end[0]}`")
    lines += ["", "| Column | Type | Required | Codes | Standard | Meaning |", "|---|---|---|---|---|---|"]
    for c in feed.columns:
        codes = _codes(c) if c.type == feeds.CODE else ("`Y`, `N`" if c.type == feeds.FLAG else "")
        lines.append(f"| `{c.label}` | {c.type} | {'yes' if c.required else ''} | {codes} | {c.standard} | "
                     f"{c.description} |")
    return "\n".join(lines) + "\n"


def _scales() -> str:
    rows = ["| Scale | Boroughs | Years of history | Size | Budgeted posts per borough |", "|---|---|---|---|---|"]
    for name, s in SCALES.items():
        rows.append(f"| `{name}` | {s.boroughs} | {s.history_years} | {s.size:g} x the borough of docs/rules.md | {s.posts} |")
    return "\n".join(rows)


def _defects() -> str:
    rows = [f"| `{k}` | row (quarantined) | `{f}` | {why} |" for k, (f, why) in ROW_DEFECTS.items()]
    rows += [f"| `{k}` | file (rejected) | `{f}` | {why} |" for k, (f, why) in FILE_DEFECTS.items()]
    return "\n".join(rows)


BENCHMARK = """\
`make bench` (`python -m bench.extract_load`) generates one file, then loads that same file three
ways: the extract layer, a plain COPY, and pandas' `to_sql`. The figures measured on this
project's 2-core development machine, and what they say: [bench/results/extract_load.md](../bench/results/extract_load.md)."""


def _code_lists() -> str:
    lines = ["## Code lists\n", "Each coded column's codes, once each, in `extract/code_lists.py`, with their source "
             "(`service_area` is the council's reference data instead: see above).\n",
             "| List | Codes | Source |", "|---|---|---|"]
    for name, codes in code_lists.CODE_LISTS.items():
        lines.append(f"| `{name}` | {', '.join(f'`{c}`' for c in codes)} | {codes.source} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    intro = INTRO.replace("{scales}", _scales()).replace("{defects}", _defects()).replace(
        "{benchmark}", BENCHMARK)
    sections = []
    for source in feeds.SOURCES:
        sections.append(f"### Source `{source}`\n")
        sections += [feed_section(f) for f in feeds.FEEDS if f.source == source]
    from .returns.registry import RETURNS

    sections.append("## Statutory returns\n\nThe returns a council already makes, imported with "
                    "`safeguarding import-returns` and mapped into the feeds above ([returns.md](returns.md)). "
                    "Their files arrive in the folder handed over (XML and Excel are converted to these CSVs in "
                    "`<landing>/<return>/<YYYY-03-31>/`); `date_dmy` is a date written dd/mm/yyyy. In PostgreSQL "
                    "the columns are these names in lower case.\n")
    for statutory_return in RETURNS:
        sections.append(f"### Return `{statutory_return.name}`: {statutory_return.title}\n")
        sections += [feed_section(f) for f in statutory_return.feeds]
    sections.append(_code_lists())
    return intro + "\n".join(sections)

