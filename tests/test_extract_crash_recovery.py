"""Nothing lost when a load is killed, a delta is rejected, or a file is re-delivered (extract step, for real).

The faults are injected for real, on a PostgreSQL of this module's own (one of them crashes it):

* kill -9 of the process running the extract step, while it loads a file;
* PostgreSQL's backend killed (kill -9) in the middle of a COPY, which restarts the server;
* then the next extract step recovers both: the manifest rows left `loading` are marked failed
  with the reason, the tables left in raw are dropped, and the log and dq.recovered_loads say so.

Also: an incremental feed's rejected delta holds the later nights back until it is re-delivered
(it used to be skipped for good), and the quality report counts only the quarantined rows of
the batch that replaced a re-delivered one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from extract.feeds import CRS_CONTACTS, CRS_VISITS
from synthetic.generate import generate_night, landing_folder
from extract.load import RejectedFile
from extract.load_night import MissingDelta
from warehouse import db, dq, embedded_postgres
from pipeline import nightly
from warehouse.settings import PROJECT_ROOT, load

from conftest import TEST_KEY, free_port
from helpers import query

NIGHT = date(2026, 9, 1)
BOUND = 120  # seconds: how long a step of the fault may take on a busy machine before the test gives up


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A PostgreSQL of this module's own: one test kills a backend, which restarts the whole server."""
    state = tmp_path_factory.mktemp("crash-state")
    env = {"SAFEGUARDING_STATE_DIR": str(state), "SAFEGUARDING_PG_PORT": str(free_port()),
           "SAFEGUARDING_PSEUDONYMISATION_KEY": TEST_KEY, "SAFEGUARDING_LANDING_DIR": str(state / "landing")}
    settings = load(env)
    embedded_postgres.start(settings, quiet=True)
    generate_night(settings.landing_dir, NIGHT, scale="tiny")
    nightly.extract(NIGHT, settings)  # the night as published before the faults
    yield settings, {k: v for k, v in os.environ.items() if k != "SAFEGUARDING_WAREHOUSE_URL"} | env
    embedded_postgres.stop(settings)


def connect(settings):
    deadline = time.monotonic() + BOUND
    while True:  # after a crash the server takes a moment to come back
        try:
            return db.connect(settings)
        except Exception:  # noqa: BLE001 - ConfigurationError while it restarts
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def start_extract(env, night: date) -> subprocess.Popen:
    """The extract step in a process of its own, as an Airflow task runs it."""
    code = f"import datetime; from pipeline import nightly; nightly.extract(datetime.date.fromisoformat('{night}'))"
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(what: str, found, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + BOUND
    while not (result := found()):
        if process is not None and process.poll() is not None:
            pytest.fail(f"the extract ended before {what}: {process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {BOUND} s")
        time.sleep(0.01)
    return result


def visits_batches(conn, status: str) -> list[int]:
    return [b for (b,) in query(conn, "select batch_id from raw.load_manifest where feed = %s and extract_date = %s "
                                      "and status = %s order by batch_id", (CRS_VISITS.id, NIGHT, status))]


def left_in_raw(conn, batch_id: int) -> list[str]:
    return [n for (n,) in query(conn, "select relname from pg_class where relnamespace = 'raw'::regnamespace "
                                      "and relname like %s order by 1", (f"{CRS_VISITS.id}__batch_{batch_id}%",))]


def published_visits(conn) -> tuple:
    return query(conn, f"select count(*), min(_batch_id) from {CRS_VISITS.raw_table} where _extract_date = %s",
                 (NIGHT,))[0]


@pytest.fixture(scope="module")
def crashes(server):
    """Two loads of a re-delivered visits file, each killed for real; then the next extract runs."""
    settings, env = server
    path = landing_folder(settings.landing_dir, CRS_VISITS.source, NIGHT) / CRS_VISITS.file_name
    delivered = path.read_bytes()
    conn = connect(settings)
    before = published_visits(conn)
    outcome = {"before": before}

    # A big corrected re-delivery of the night's visits (~40 MB, every visit id its own), so that its
    # COPY lasts long enough to be caught in the middle.
    rows = delivered.splitlines(keepends=True)
    path.write_bytes(rows[0] + b"".join(b"R%d-" % copy + row for copy in range((40 << 20) // len(delivered))
                                        for row in rows[1:]))
    watch = connect(settings)
    copying = "select pid from pg_stat_progress_copy where command = 'COPY FROM' and bytes_processed > 0"

    # 1. kill -9 of the loading process, mid-load. Once its batch is copied (committed in raw, attached
    # to nothing yet), a reader holding the feed's table (a BI query, say) keeps it waiting to publish the
    # batch: it is killed there.
    loader = start_extract(env, NIGHT)
    wait_for("COPY in progress", lambda: query(watch, copying), loader)
    with conn.cursor() as cur:
        cur.execute(f"lock table {CRS_VISITS.raw_table} in access share mode")
        [(waiting,)] = wait_for("load waiting to publish its batch", lambda: query(
            watch, "select pid from pg_stat_activity where wait_event_type = 'Lock' and query like 'lock table raw.%%'"),
            loader)
        loader.send_signal(signal.SIGKILL)
        loader.wait(BOUND)
    conn.rollback()
    [killed_batch] = visits_batches(conn, "loading")
    outcome["killed"] = (killed_batch, left_in_raw(conn, killed_batch))
    # Its server process ends once the server notices the client is gone (client_connection_check_interval).
    wait_for("end of the killed loader's session", lambda: not query(
        watch, "select 1 from pg_stat_activity where pid = %s", (waiting,)))

    # 2. PostgreSQL killed in the middle of the COPY (kill -9 of the backend that runs it: the postmaster
    # then restarts the whole server, as after a crash).
    loader = start_extract(env, NIGHT)
    [(backend,)] = wait_for("COPY in progress", lambda: query(watch, copying), loader)
    os.kill(backend, signal.SIGKILL)
    loader.wait(BOUND)
    outcome["loader_error"] = loader.stderr.read()
    for gone in (conn, watch):
        gone.close()
    conn = connect(settings)
    outcome["crashed"] = [b for b in visits_batches(conn, "loading") if b != killed_batch]

    # 3. The next run, with the file as first delivered.
    path.write_bytes(delivered)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("extract.recovery").addHandler(handler)
    try:
        nightly.extract(NIGHT, settings)
    finally:
        logging.getLogger("extract.recovery").removeHandler(handler)
    outcome["log"] = [r.getMessage() for r in records]
    yield settings, conn, outcome
    conn.close()


def test_the_faults_left_loads_behind(crashes):
    """What a crash leaves (and stayed forever before): the manifest rows `loading`, tables in raw."""
    settings, conn, outcome = crashes
    killed_batch, tables = outcome["killed"]
    assert tables == [f"{CRS_VISITS.id}__batch_{killed_batch}"], tables
    assert len(outcome["crashed"]) == 1, outcome["loader_error"][-2000:]
    assert "server closed the connection unexpectedly" in outcome["loader_error"] or \
        "terminating connection" in outcome["loader_error"], outcome["loader_error"][-2000:]


def test_the_next_run_marks_them_failed_with_the_reason_and_drops_what_they_left(crashes):
    settings, conn, outcome = crashes
    dead = [outcome["killed"][0], *outcome["crashed"]]
    for batch_id in dead:
        [(status, message)] = query(conn, "select status, message from raw.load_manifest where batch_id = %s",
                                    (batch_id,))
        assert status == "failed" and message.startswith("interrupted: the load stopped before it finished"), message
        assert left_in_raw(conn, batch_id) == []
    assert query(conn, "select count(*) from raw.load_manifest where status = 'loading'") == [(0,)]
    # Said in the log of the run that recovered each (the first by the run the second crash stopped,
    # which recovered it before loading; the second by the last run), and in dq.
    for batch_id, log in ((dead[0], outcome["loader_error"].splitlines()), (dead[1], outcome["log"])):
        assert any(f"Recovered after a crash: {CRS_VISITS.id} batch {batch_id} for {NIGHT}" in line
                   for line in log), log
    recorded = query(conn, "select batch_id, run_id, extract_date, what, dropped_tables from dq.recovered_loads "
                           "order by batch_id")
    assert [r[0] for r in recorded] == sorted(dead)
    assert {r[1:3] for r in recorded} == {(dq.current_run_id(NIGHT), NIGHT)}
    assert recorded[0][4] == [f"{CRS_VISITS.id}__batch_{outcome['killed'][0]}"]


def test_what_was_published_stayed_whole(crashes):
    settings, conn, outcome = crashes
    assert published_visits(conn) == outcome["before"]  # the re-deliveries never replaced the night's batch
    assert query(conn, "select count(*) from raw.load_manifest where feed = %s and extract_date = %s "
                       "and status = 'loaded'", (CRS_VISITS.id, NIGHT)) == [(1,)]


# --- an incremental feed's rejected delta ------------------------------------------------------

GAP_NIGHTS = [date(2026, 9, 10) + timedelta(days=n) for n in range(3)]


def test_a_rejected_delta_holds_the_next_nights_back_until_it_is_re_delivered(server, tmp_path):
    import dataclasses

    settings, _ = server
    settings = dataclasses.replace(settings, landing_dir=tmp_path / "landing")
    first, rejected, after = GAP_NIGHTS
    for night in GAP_NIGHTS:  # contacts and visits: a full delivery, then a delta each night
        generate_night(settings.landing_dir, night, scale="tiny")
    delta = landing_folder(settings.landing_dir, CRS_CONTACTS.source, rejected) / CRS_CONTACTS.file_name
    delivered = delta.read_bytes()
    changed = {line.split(b",", 1)[0].decode() for line in delivered.splitlines()[1:]}
    assert changed  # the contacts that changed that day (a tiny borough: a few)
    nightly.extract(first, settings)
    delta.write_bytes(delivered[:-20])  # cut short in transfer: rejected
    with pytest.raises(RejectedFile, match="truncated file"):
        nightly.extract(rejected, settings)

    with pytest.raises(MissingDelta) as held:
        nightly.extract(after, settings)

    message = str(held.value)
    assert f"crs__contacts: the delivery of {rejected} was refused and has not been loaded since" in message
    assert "truncated file" in message and f"re-run that night (extract_date {rejected})" in message
    assert "crs__visits" not in message  # its delta of that night loaded
    conn = connect(settings)
    try:
        [(status, stage, recorded)] = query(conn, "select status, stage, message from dq.nightly_runs "
                                                  "where run_id = %s", (dq.current_run_id(after),))
        assert (status, stage) == ("held_back", "extract") and "crs__contacts" in recorded and str(rejected) in recorded

        delta.write_bytes(delivered)  # re-delivered
        nightly.extract(rejected, settings)
        nightly.extract(after, settings)  # no longer held back

        in_raw = {c for (c,) in query(conn, f"select contact_id from {CRS_CONTACTS.raw_table} "
                                            "where _extract_date = %s", (rejected,))}
        assert changed <= in_raw  # every change of the rejected night reached raw
    finally:
        conn.close()


def test_the_quality_report_counts_only_the_quarantine_of_the_batch_published(server, tmp_path):
    """A re-delivery with its bad rows corrected replaces the batch: its old quarantined rows are not the night's."""
    import dataclasses

    from expectations.quality_report import build_quality_report

    settings, _ = server
    settings = dataclasses.replace(settings, landing_dir=tmp_path / "landing")
    night = date(2026, 9, 5)  # before the nights of the test above, which it must not depend on
    generate_night(settings.landing_dir, night, scale="tiny", defects=["bad_date"])  # 3 bad referral dates
    nightly.extract(night, settings)
    generate_night(settings.landing_dir, night, scale="tiny")  # the corrected re-delivery
    nightly.extract(night, settings)
    conn = connect(settings)
    try:
        assert query(conn, "select count(*) from raw.quarantine where extract_date = %s", (night,)) == [(3,)]
        dq.record_night(conn, run_id="report_test", extract_date=night, status=dq.RUNNING, stage="extract")
    finally:
        conn.close()

    html = build_quality_report(settings, extract_date=night).read_text()

    assert '<div class="n">0</div><div class="l">rows quarantined</div>' in html
    assert "No row was quarantined for this night." in html
