"""`make airflow-ui` as an engineer opens it, in a real browser (issue #16).

One `safeguarding airflow standalone` (what `make airflow-ui` runs) is started for the module,
with no virtualenv on PATH (as from a fresh clone: standalone starts its components by the name
`airflow`, which failed with FileNotFoundError) and free ports. Headless Chromium (Debian's,
driven by Playwright; .ci/run installs it) logs in with the password standalone generated,
opens the nightly DAG, sees the run `make run` made (conftest.py, nightly_run) with its task
states, and reads a task's log: the lines dbt wrote while the run went.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import free_port
from helpers import chromium

pytestmark = pytest.mark.slow
STARTUP_BOUND_SECONDS = 300  # standalone migrates, then starts five processes: a minute idle, more when shared
PAGE_BOUND_MS = 60_000



@pytest.fixture(scope="module")
def airflow_ui(nightly_run, settings, tmp_path_factory):
    assert nightly_run.returncode == 0, nightly_run.stdout[-3000:] + nightly_run.stderr[-3000:]
    port = free_port()
    home = Path(os.environ["AIRFLOW_HOME"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p).resolve() != Path(sys.executable).parent.resolve())
    env |= {"AIRFLOW__API__PORT": str(port),
            # Its log servers on free ports too (8793 and 8794 by default: another session may hold them).
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}
    log = tmp_path_factory.mktemp("standalone") / "standalone.log"
    with log.open("w") as out:
        # What `make airflow-ui` runs: .venv/bin/safeguarding airflow standalone.
        process = subprocess.Popen([str(Path(sys.executable).parent / "safeguarding"), "airflow", "standalone"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_BOUND_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v2/version", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"airflow standalone did not answer on {base} within {STARTUP_BOUND_SECONDS} s "
                            f"(exit {process.poll()}); its output ends:\n{log.read_text()[-5000:]}")
            time.sleep(2)
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        yield {"base": base, "password": password, "log": log, "process": process}
    finally:
        # Standalone and everything it started share its process group.
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture(scope="module")
def page(airflow_ui):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(PAGE_BOUND_MS)
        page.goto(airflow_ui["base"] + "/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", airflow_ui["password"])
        page.locator("button[type=submit]").click()
        page.wait_for_url(airflow_ui["base"] + "/")
        yield page
        browser.close()


def run_id_of(nightly_run) -> str:
    return nightly_run.stdout.strip().splitlines()[-3].rsplit("(run ", 1)[1].rstrip(")")


def test_make_airflow_ui_starts_with_slots_for_this_machine(airflow_ui):
    output = airflow_ui["log"].read_text()
    assert "FileNotFoundError" not in output
    assert airflow_ui["process"].poll() is None  # still serving


def test_the_browser_sees_the_make_run_run_with_its_task_states(page, airflow_ui, nightly_run):
    run_id = run_id_of(nightly_run)
    page.goto(f"{airflow_ui['base']}/dags/safeguarding_nightly/runs")
    runs = page.locator("body")
    runs.get_by_text(run_id).first.wait_for()
    page.goto(f"{airflow_ui['base']}/dags/safeguarding_nightly/runs/{urllib.parse.quote(run_id, safe='')}")
    page.get_by_text("Task Instances").first.wait_for()
    page.get_by_text("document_marts").first.wait_for()
    text = page.inner_text("body")
    # The run's true times: started while `make run` ran, lasting minutes, not the months between
    # a logical date and the run (issue #16: "4 h 49 m or negative, start dates in the future").
    shown = re.search(r"Start Date\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
    assert shown, text[:2000]
    start = datetime.strptime(shown.group(1), "%Y-%m-%d %H:%M:%S")
    in_utc, in_london = (start.replace(tzinfo=zone) for zone in (timezone.utc, ZoneInfo("Europe/London")))
    window = (nightly_run.started - timedelta(minutes=1), nightly_run.finished + timedelta(minutes=1))
    assert any(window[0] <= shown_at <= window[1] for shown_at in (in_utc, in_london)), (shown.group(1), window)
    duration = text.split("Duration\n", 1)[1].split("\n", 1)[0]
    hours, minutes, _ = duration.split(":")
    assert hours == "00" and int(minutes) < 30, duration
    for task in ("extract", "validate_raw", "build_marts", "validate_marts", "publish"):
        assert task in text
    assert text.count("Success") >= 8  # the run and its task instances


def test_the_browser_reads_a_task_log(page, airflow_ui, nightly_run):
    run_id = urllib.parse.quote(run_id_of(nightly_run), safe="")
    page.goto(f"{airflow_ui['base']}/dags/safeguarding_nightly/runs/{run_id}/tasks/build_marts")
    page.get_by_text("Completed successfully").first.wait_for()  # dbt's own last lines, as the run wrote them
    text = page.inner_text("body")
    assert "Log file not found" not in text and "Done. PASS=" in text
