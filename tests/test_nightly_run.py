"""The main job end to end: `safeguarding run` drives the real DAG with `airflow dags test`.

Real PostgreSQL, real dbt, real GX, real Airflow. The expected figures are computed
here, independently, from the generated CSV files, not read from the pipeline.
"""

import csv
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from extract.feeds import CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS
from extract.generate import landing_folder
from warehouse.pseudonymisation import pseudonym

from conftest import TEST_KEY
from helpers import query

pytestmark = pytest.mark.slow
NIGHT = date(2026, 11, 22)
LONDON = ZoneInfo("Europe/London")


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "warehouse", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


def expected_from_files(folder: Path) -> dict:
    """Recompute the mart's headline figures from the files, in plain Python."""
    def when(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON) if text else None

    with (folder / CRS_MISSING_EPISODES.file_name).open() as fh:
        episodes = {r["episode_id"]: r for r in csv.DictReader(fh)}
    with (folder / CRS_RETURN_HOME_INTERVIEWS.file_name).open() as fh:
        interviews = list(csv.DictReader(fh))
    first_offer: dict[str, datetime] = {}
    for i in interviews:
        if i["offered_at"]:
            offered = when(i["offered_at"])
            if i["episode_id"] not in first_offer or offered < first_offer[i["episode_id"]]:
                first_offer[i["episode_id"]] = offered
    returned = {e: when(r["missing_end"]) for e, r in episodes.items() if r["missing_end"]}
    on_time = sum(1 for e, back in returned.items()
                  if e in first_offer and back <= first_offer[e] <= back + timedelta(hours=72))
    return {"episodes": len(episodes), "returned": len(returned), "on_time": on_time,
            "a_person": next(iter(episodes.values()))["person_id"]}


@pytest.fixture(scope="module")
def first_run(settings):
    result = run_cli("run", "--scale", "tiny", "--extract-date", NIGHT.isoformat())
    return result


def test_main_job_publishes_the_mart_and_data_docs(settings, first_run, conn):
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    assert "marts.mart_return_home_interviews" in first_run.stdout  # the ready psql line
    expected = expected_from_files(landing_folder(settings.landing_dir, "crs", NIGHT))
    [(episodes, returned, on_time)] = query(conn, """
        select count(*), count(*) filter (where in_denominator), count(*) filter (where offered_within_72h)
        from marts.mart_return_home_interviews""")
    assert (episodes, returned, on_time) == (expected["episodes"], expected["returned"], expected["on_time"])
    # Keys are pseudonymous: HMAC-SHA256 with the key from the environment, as Python computes it.
    person_key = pseudonym(TEST_KEY, "person", expected["a_person"])
    assert query(conn, "select count(*) from marts.mart_return_home_interviews where person_key = %s",
                 (person_key,))[0][0] >= 1
    assert settings.data_docs_index.exists()


def test_second_run_is_idempotent(settings, first_run, conn):
    before = query(conn, "select count(*), md5(string_agg(episode_key || coalesce(hours_to_offer::text, ''), ',' "
                         "order by episode_key)) from marts.mart_return_home_interviews")
    again = run_cli("run", "--scale", "tiny", "--extract-date", NIGHT.isoformat())
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    after = query(conn, "select count(*), md5(string_agg(episode_key || coalesce(hours_to_offer::text, ''), ',' "
                        "order by episode_key)) from marts.mart_return_home_interviews")
    assert after == before
    assert query(conn, "select count(*) from raw.load_manifest where extract_date = %s and status = 'loaded'",
                 (NIGHT,))[0][0] == 2


def test_a_bad_night_fails_loudly_and_keeps_the_published_marts(settings, first_run, conn):
    before = query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews")
    bad_night = NIGHT + timedelta(days=1)
    generated = run_cli("generate", "--scale", "tiny", "--extract-date", bad_night.isoformat())
    assert generated.returncode == 0, generated.stderr
    path = landing_folder(settings.landing_dir, "crs", bad_night) / CRS_MISSING_EPISODES.file_name
    path.write_text(path.read_text().replace("missing_type", "missing_kind", 1))  # a renamed column

    failed = run_cli("run", "--no-generate", "--extract-date", bad_night.isoformat())
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "missing column(s) missing_type" in output and str(path) in output
    assert query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews") == before


def test_a_night_failing_a_critical_expectation_is_held_back(settings, first_run, conn):
    before = query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews")
    bad_night = NIGHT + timedelta(days=2)
    assert run_cli("generate", "--scale", "tiny", "--extract-date", bad_night.isoformat()).returncode == 0
    path = landing_folder(settings.landing_dir, "crs", bad_night) / CRS_MISSING_EPISODES.file_name
    lines = path.read_text().splitlines()
    fields = lines[3].split(",")
    fields[2] = "X"  # missing_type: not an SSDA903 code
    lines[3] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")

    failed = run_cli("run", "--no-generate", "--extract-date", bad_night.isoformat())
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "validate_raw failed" in output and "missing_type" in output
    assert query(conn, "select count(*), max(episode_key) from marts.mart_return_home_interviews") == before
    # The file itself loaded (it is well formed): the gate, not the loader, held it back.
    assert query(conn, "select status from raw.load_manifest where extract_date = %s and feed = %s",
                 (bad_night, CRS_MISSING_EPISODES.id)) == [("loaded",)]
