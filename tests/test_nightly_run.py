"""The main job end to end: `safeguarding run` drives the real DAG with `airflow dags test`.

Real PostgreSQL, real dbt, real GX, real Airflow. The expected figures are computed
here, independently, from the generated CSV files, not read from the pipeline.
"""

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from extract.feeds import CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS, PROVIDER_RETURN_INTERVIEWS, FEEDS, FEEDS_BY_ID
from synthetic.generate import FILE_DEFECTS, ROW_DEFECTS, generate_night, landing_folder
from warehouse.pseudonymisation import pseudonym

from conftest import NIGHTLY_RUN_NIGHT, TEST_KEY
from helpers import dbt_var, query

pytestmark = pytest.mark.slow
NIGHT = NIGHTLY_RUN_NIGHT  # before the DAGs' start date until issue #16 (conftest.py)
LONDON = ZoneInfo("Europe/London")


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "safeguarding", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


def expected_from_files(landing: Path, night: date) -> dict:
    """Recompute the mart's headline figures from the files, in plain Python.

    The earliest offer counts, whether on the council's RHI form or in the provider's
    returns. Provider returns that do not name the council's episode are matched in the
    warehouse by child and time; here they are only counted, as the on-time count's
    tolerance.
    """
    def when(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON) if text else None

    crs = landing_folder(landing, "crs", night)
    with (crs / CRS_MISSING_EPISODES.file_name).open() as fh:
        records = list(csv.DictReader(fh))
    # One event, one row: records of the same child and start are one episode (the one with a
    # return kept, then the lowest id); a form naming a duplicate counts for the kept record.
    kept: dict[tuple[str, str], dict] = {}
    for r in sorted(records, key=lambda r: (r["missing_end"] == "", r["episode_id"])):
        kept.setdefault((r["person_id"], r["missing_start"]), r)
    kept_id = {r["episode_id"]: kept[(r["person_id"], r["missing_start"])]["episode_id"] for r in records}
    episodes = {r["episode_id"]: r for r in kept.values()}
    with (crs / CRS_RETURN_HOME_INTERVIEWS.file_name).open() as fh:
        offers = [(i["episode_id"], i["offered_at"]) for i in csv.DictReader(fh)]
    with (landing_folder(landing, "provider", night) / PROVIDER_RETURN_INTERVIEWS.file_name).open() as fh:
        provider = list(csv.DictReader(fh))
    offers += [(p["crs_episode_id"], p["offered_at"]) for p in provider if p["crs_episode_id"]]
    first_offer: dict[str, datetime] = {}
    for episode_id, offered_at in offers:
        episode_id = kept_id.get(episode_id, episode_id)
        if offered_at and (episode_id not in first_offer or when(offered_at) < first_offer[episode_id]):
            first_offer[episode_id] = when(offered_at)
    returned = {e: when(r["missing_end"]) for e, r in episodes.items() if r["missing_end"]}
    # Pending: no offer yet, and the timescale's hours run to or past the end of the extract day.
    timescale = timedelta(hours=dbt_var("rhi_timescale_hours"))
    extract_end = datetime.combine(night + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    pending = {e for e, back in returned.items()
               if e not in first_offer and back + timescale >= extract_end}
    on_time = sum(1 for e, back in returned.items()
                  if e in first_offer and back <= first_offer[e] <= back + timescale)
    return {"episodes": len(episodes), "returned": len(returned) - len(pending), "on_time": on_time,
            "unlinked_provider_returns": sum(1 for p in provider if not p["crs_episode_id"]),
            "a_person": next(iter(episodes.values()))["person_id"]}


@pytest.fixture(scope="module")
def landing(nightly_landing):
    """The nightly run's landing folder (conftest.py), for this module's later nights too."""
    previous = os.environ.get("SAFEGUARDING_LANDING_DIR")
    os.environ["SAFEGUARDING_LANDING_DIR"] = str(nightly_landing)
    yield nightly_landing
    if previous is None:
        os.environ.pop("SAFEGUARDING_LANDING_DIR", None)
    else:
        os.environ["SAFEGUARDING_LANDING_DIR"] = previous


@pytest.fixture(scope="module")
def first_run(nightly_run, landing):
    return nightly_run


def test_main_job_publishes_the_mart_and_data_docs(settings, first_run, landing, conn):
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    # A healthy generated night (with the defect shapes every night holds) publishes with no
    # warning: a warning must mean something (issue 15, item 9).
    assert query(conn, "select status, warnings from marts.publication") == [("published", 0)], \
        query(conn, "select suite, expectation from dq.validation_results where not success")
    assert "marts.mart_return_home_interviews" in first_run.stdout  # the ready psql line
    expected = expected_from_files(landing, NIGHT)
    [(episodes, returned, on_time)] = query(conn, """
        select count(*), count(*) filter (where in_denominator), count(*) filter (where offered_within_72h)
        from marts.mart_return_home_interviews where recorded_by_council""")
    assert (episodes, returned) == (expected["episodes"], expected["returned"])
    assert abs(on_time - expected["on_time"]) <= expected["unlinked_provider_returns"]
    # Keys are pseudonymous: HMAC-SHA256 with the key from the environment, as Python computes it.
    person_key = pseudonym(TEST_KEY, "person", expected["a_person"])
    assert query(conn, "select count(*) from marts.mart_return_home_interviews where person_key = %s",
                 (person_key,))[0][0] >= 1
    assert settings.data_docs_index.exists()


def test_the_run_ends_saying_what_became_of_the_night(first_run):
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    last = first_run.stdout.strip().splitlines()[-3:]
    assert last[0].startswith(f"==> Nightly run for {NIGHT}: PUBLISHED"), last
    assert last[1] == "    Quarantined rows: none"
    assert last[2] == f"    Quality report: {Path(os.environ['SAFEGUARDING_STATE_DIR'])}/reports/quality/{NIGHT}.html"


def test_the_run_looks_in_airflow_as_it_happened(first_run):
    """True start and end times (the run is started now, the night named in its conf, not a
    logical date that Airflow would record as the start), and every task's log in the file the
    Airflow UI reads."""
    import sqlite3

    run_id = first_run.stdout.strip().splitlines()[-3].rsplit("(run ", 1)[1].rstrip(")")
    home = Path(os.environ["AIRFLOW_HOME"])
    with sqlite3.connect(home / "airflow.db") as db:
        (start, end, conf), = db.execute("select start_date, end_date, conf from dag_run where run_id = ?", (run_id,))
        tasks = db.execute("select task_id, try_number, start_date, end_date from task_instance where run_id = ? "
                           "and state = 'success'", (run_id,)).fetchall()
        [(all_tasks,)] = db.execute("select count(*) from task_instance where run_id = ?", (run_id,))
    start, end = (datetime.fromisoformat(t).replace(tzinfo=timezone.utc) for t in (start, end))
    assert first_run.started - timedelta(seconds=1) <= start < end <= first_run.finished
    assert len(tasks) == all_tasks > len(FEEDS)  # every task ran and succeeded
    for task_id, try_number, task_start, task_end in tasks:
        assert start <= datetime.fromisoformat(task_start).replace(tzinfo=timezone.utc) <= end, task_id
        log = home / "logs" / "dag_id=safeguarding_nightly" / f"run_id={run_id}" / f"task_id={task_id}" \
            / f"attempt={try_number}.log"
        assert log.exists(), log
    dbt_log = (home / "logs" / "dag_id=safeguarding_nightly" / f"run_id={run_id}" / "task_id=build_marts"
               / "attempt=1.log").read_text()
    assert "Running with dbt=" in dbt_log and "Completed successfully" in dbt_log


def test_dbt_results_reach_dq_and_the_quality_report(settings, first_run, conn):
    """Every node of the night's dbt build, warn-level tests included, with model build times and
    rows written, is in dq.dbt_results beside GX's results and in the night's quality report."""
    assert first_run.returncode == 0
    run_id = first_run.stdout.strip().splitlines()[-3].rsplit("(run ", 1)[1].rstrip(")")
    from warehouse.dbt import dbt_target_dir

    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    tests = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    by_type = dict(query(conn, "select resource_type, count(*) from dq.dbt_results where run_id = %s group by 1",
                         (run_id,)))
    assert by_type["test"] == len(tests) and by_type["model"] >= 40, by_type
    warn_level = {uid for uid, node in tests.items() if node["config"]["severity"].lower() == "warn"}
    assert warn_level and query(conn, "select count(*) from dq.dbt_results where run_id = %s and severity = 'warn'",
                                (run_id,))[0][0] == len(warn_level)
    [(tables, rows, seconds)] = query(conn, """select count(*), sum(rows_affected), sum(execution_seconds)
        from dq.dbt_results where run_id = %s and resource_type = 'model' and rows_affected is not null""", (run_id,))
    [(episodes,)] = query(conn, "select count(*) from marts.mart_return_home_interviews")
    assert tables > 10 and rows >= episodes > 0 and seconds > 0
    assert query(conn, """select rows_affected from dq.dbt_results where run_id = %s
                          and name = 'mart_return_home_interviews'""", (run_id,)) == [(episodes,)]
    report = (settings.state_dir / "reports" / "quality" / f"{NIGHT}.html").read_text()
    dbt = report.split('<section id="dbt">', 1)[1].split("</section>", 1)[0]
    assert f"{len(tests)} data tests: " in dbt and "mart_return_home_interviews" in dbt


def test_the_run_writes_a_docs_site_that_describes_every_published_mart_column(settings, first_run, conn):
    """dbt docs generate, in the run: the site names the published marts and describes every
    column the database has for them (catalog.json), so an analyst never meets an unexplained one."""
    assert first_run.returncode == 0
    site = settings.dbt_docs_dir
    assert (site / "static_index.html").stat().st_size > 100_000  # the one-file site, data inlined
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    published = {name for (name,) in query(conn, "select table_name from information_schema.tables "
                                                 "where table_schema = 'marts'") if name.startswith("mart_")}
    documented = {node["name"]: (uid, node) for uid, node in manifest["nodes"].items()
                  if node["resource_type"] == "model" and node["schema"] == "marts"}
    assert published and published <= set(documented), published - set(documented)
    undescribed = []
    for name in published:
        uid, node = documented[name]
        columns = catalog["nodes"][uid]["columns"]  # as the database has them, after publication
        assert columns, f"{name}: no columns in the catalog"
        undescribed += [f"{name}.{c}" for c in columns
                        if not node["columns"].get(c, {}).get("description", "").strip()]
    assert undescribed == []


def test_second_run_is_idempotent(settings, first_run, landing, conn):
    before = query(conn, "select count(*), md5(string_agg(episode_key || coalesce(hours_to_offer::text, ''), ',' "
                         "order by episode_key)) from marts.mart_return_home_interviews")
    again = run_cli("run", "--scale", "tiny", "--extract-date", NIGHT.isoformat())
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    after = query(conn, "select count(*), md5(string_agg(episode_key || coalesce(hours_to_offer::text, ''), ',' "
                        "order by episode_key)) from marts.mart_return_home_interviews")
    assert after == before
    assert query(conn, "select count(*) from raw.load_manifest where extract_date = %s and status = 'loaded'",
                 (NIGHT,))[0][0] == len(FEEDS)


def test_a_bad_night_fails_loudly_and_keeps_the_published_marts(settings, first_run, landing, conn, tmp_path):
    before = query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews")
    bad_night = NIGHT + timedelta(days=1)
    generated = run_cli("generate", "--scale", "tiny", "--extract-date", bad_night.isoformat())
    assert generated.returncode == 0, generated.stderr
    path = landing_folder(landing, "crs", bad_night) / CRS_MISSING_EPISODES.file_name
    path.write_text(path.read_text().replace("missing_type", "missing_kind", 1))  # a renamed column
    # Every other kind of bad file too, each in its own feed (synthetic.generate.FILE_DEFECTS): one run reports them all.
    seeded = generate_night(tmp_path, bad_night, scale="tiny", defects=list(FILE_DEFECTS))
    for kind, feed_id in seeded.defects.items():
        target = landing_folder(landing, FEEDS_BY_ID[feed_id].source, bad_night) / seeded.files[feed_id].name
        target.write_bytes(seeded.files[feed_id].read_bytes())

    failed = run_cli("run", "--no-generate", "--extract-date", bad_night.isoformat())
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "missing column(s) missing_type" in output and str(path) in output
    for words in ("missing column(s)", "unknown column(s) legacy_flag", "the file is empty", "truncated file",
                  "wrong delimiter", "undecodable bytes"):
        assert words in output, words
    for feed_id in seeded.defects.values():
        feed = FEEDS_BY_ID[feed_id]
        assert f"{landing_folder(landing, feed.source, bad_night) / feed.file_name}: line " in output
    assert query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews") == before


def test_bad_rows_are_quarantined_and_the_night_still_publishes(settings, first_run, landing, conn, tmp_path):
    # (Until the loader checked codes, a row with an unknown code reached raw and the raw quality gate
    # held the night back. The loader now quarantines such rows: the rest of the night publishes.)
    bad_night = NIGHT + timedelta(days=2)
    assert run_cli("generate", "--scale", "tiny", "--extract-date", bad_night.isoformat()).returncode == 0
    # One of each row-level defect (synthetic.generate.ROW_DEFECTS), each in its default feed.
    seeded = generate_night(tmp_path, bad_night, scale="tiny", defects=list(ROW_DEFECTS))
    for feed_id in seeded.defects.values():
        feed = FEEDS_BY_ID[feed_id]
        (landing_folder(landing, feed.source, bad_night) / feed.file_name).write_bytes(
            seeded.files[feed_id].read_bytes())

    run = run_cli("run", "--no-generate", "--extract-date", bad_night.isoformat())
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    quarantined = query(conn, "select feed, column_name, count(*) from raw.quarantine_current where extract_date = %s "
                              "group by 1, 2 order by 1", (bad_night,))
    assert quarantined == [("crs__cp_plans", "cp_plan_id", 1), ("crs__looked_after_episodes", "end_date", 3),
                           ("crs__missing_episodes", "missing_type", 3), ("crs__referrals", "referral_date", 3)]
    assert query(conn, "select reason, original_line like '%%,X,%%' from raw.quarantine_current "
                       "where extract_date = %s and feed = %s order by line_number limit 1",
                 (bad_night, CRS_MISSING_EPISODES.id)) == [("missing_type: unknown code: 'X'", True)]
    # The published mart is tonight's, without the quarantined episodes.
    with seeded.files[CRS_MISSING_EPISODES.id].open() as fh:
        episodes = [r["episode_id"] for r in csv.DictReader(fh)]
    bad_keys = [pseudonym(TEST_KEY, "missing_episode", e) for e in episodes if "DEFECT" in e]
    good_key = pseudonym(TEST_KEY, "missing_episode", episodes[0])
    assert len(bad_keys) == 3
    assert query(conn, "select count(*) from marts.mart_return_home_interviews where episode_key = any(%s)",
                 (bad_keys,))[0][0] == 0
    assert query(conn, "select count(*) from marts.mart_return_home_interviews where episode_key = %s",
                 (good_key,))[0][0] == 1
