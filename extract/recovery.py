"""After a crash: loads left `loading`, and the tables they left in raw, cleaned up by the next run.

The loader (extract/load.py) records a file as ``loading`` in ``raw.load_manifest`` before it
COPYs it, and holds a session-level advisory lock on the batch until it is done. When the loading
process is killed (kill -9, a worker lost) or PostgreSQL stops mid-COPY, the row stays ``loading``
and whatever the load had already committed stays in ``raw``: the batch table after its COPY, the
parts of a file loaded in parts, the list of bad rows. No reader ever sees those (a batch is
attached to its feed's table only once it is complete, so the published raw data and marts are
whole), but nothing would ever finish or remove them.

``recover_interrupted_loads`` runs at the start of every extract step (pipeline/nightly.py):

* a ``loading`` batch whose lock is free has no loader any more (a live load holds it, so a load
  running at the same time, another night's, is left alone): its manifest row becomes ``failed``
  with the reason, its quarantine rows and tables are dropped;
* any table in raw made for a batch that is neither loading nor loaded (an orphan, e.g. left by a
  process killed while it was cleaning up) is dropped.

Each is logged and returned; the step records them in ``dq.recovered_loads``. The file itself is
loaded again by re-running its night (the night that crashed failed, so it was not published).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

import psycopg2

from .load import _drop_batch_tables, batch_lock_key

log = logging.getLogger(__name__)

BATCH_RELATION = re.compile(r"^(?P<feed>.+)__batch_(?P<batch_id>\d+)(__.*)?$")
INTERRUPTED = ("interrupted: the load stopped before it finished (the loading process was killed, or "
               "PostgreSQL stopped, mid-load); recovered by the next extract, which dropped what it had "
               "written. Load the file again by re-running its night.")


@dataclass(frozen=True)
class Recovered:
    feed: str
    extract_date: date | None  # None: a table no manifest row names
    batch_id: int
    source_file: str | None
    what: str  # what was wrong and what was done
    dropped_tables: tuple[str, ...]


def recover_interrupted_loads(conn) -> list[Recovered]:
    """Mark dead `loading` batches failed and drop every table left by an unfinished load."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.load_manifest') is not null")
        if not cur.fetchone()[0]:
            conn.rollback()
            return []
    recovered = [r for r in (_recover_batch(conn, *row) for row in _loading(conn)) if r is not None]
    recovered += _drop_orphans(conn)
    for r in recovered:
        log.warning("Recovered after a crash: %s batch %s for %s (%s): %s Dropped: %s", r.feed, r.batch_id,
                    r.extract_date, r.source_file, r.what, ", ".join(r.dropped_tables) or "nothing")
    return recovered


def _loading(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select batch_id, feed, extract_date, source_file from raw.load_manifest "
                    "where status = 'loading' order by batch_id")
        rows = cur.fetchall()
    conn.rollback()
    return rows


def _batch_relations(conn, batch_name: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select relname from pg_class where relnamespace = 'raw'::regnamespace "
                    "and (relname = %s or starts_with(relname, %s)) and relkind in ('r', 'p', 'S') order by 1",
                    (batch_name, f"{batch_name}__"))
        names = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return names


def _recover_batch(conn, batch_id: int, feed: str, extract_date: date, source_file: str) -> Recovered | None:
    key = batch_lock_key(batch_id)
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (key,))
        if not cur.fetchone()[0]:
            conn.rollback()
            return None  # its loader is alive
    try:
        with conn.cursor() as cur:
            # Still loading? (It may have finished between the list and the lock.)
            cur.execute("update raw.load_manifest set status = 'failed', message = %s, finished_at = now() "
                        "where batch_id = %s and status = 'loading'", (INTERRUPTED, batch_id))
            if cur.rowcount == 0:
                conn.rollback()
                return None
            cur.execute("delete from raw.quarantine where batch_id = %s", (batch_id,))
        conn.commit()
        batch_name = f"{feed}__batch_{batch_id}"
        dropped = _batch_relations(conn, batch_name)
        _drop_batch_tables(conn, batch_name)
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
            conn.commit()
        except psycopg2.Error:
            conn.rollback()
    return Recovered(feed, extract_date, batch_id, source_file,
                     "left `loading` by an interrupted load: marked failed.", tuple(dropped))


def _drop_orphans(conn) -> list[Recovered]:
    """Top-level tables (and sequences) of batches that are neither loading nor loaded."""
    with conn.cursor() as cur:
        cur.execute("""select c.relname from pg_class c
                       where c.relnamespace = 'raw'::regnamespace and c.relkind in ('r', 'p', 'S')
                         and not c.relispartition and c.relname ~ '__batch_[0-9]+'""")
        candidates = {}
        for (name,) in cur.fetchall():
            match = BATCH_RELATION.match(name)
            if match:
                candidates.setdefault(int(match["batch_id"]), []).append(name)
        if not candidates:
            conn.rollback()
            return []
        cur.execute("select batch_id, feed, extract_date, source_file, status from raw.load_manifest "
                    "where batch_id = any(%s)", (list(candidates),))
        manifest = {row[0]: row[1:] for row in cur.fetchall()}
    conn.rollback()
    recovered = []
    for batch_id, names in sorted(candidates.items()):
        feed, extract_date, source_file, status = manifest.get(batch_id, (None, None, None, None))
        if status in ("loading", "loaded"):
            continue  # being loaded, or published (a published batch is a partition: not listed here)
        feed = feed or BATCH_RELATION.match(names[0])["feed"]
        batch_name = f"{feed}__batch_{batch_id}"
        dropped = _batch_relations(conn, batch_name)
        _drop_batch_tables(conn, batch_name)
        recovered.append(Recovered(feed, extract_date, batch_id, source_file,
                                   f"tables left in raw by a load that ended {status or 'unrecorded'}: dropped.",
                                   tuple(dropped)))
    return recovered
