"""The quality report of a held-back night, rendered by a real headless browser (Debian's chromium).

A night arrives with spoiled rows (the loader quarantines them), and then rows go
missing from raw after the load, so the raw gate fails on its row count against
the load manifest. The failing step builds the report itself; Chromium renders it
and the test reads the rendered DOM: the night's status, the failing expectation,
the quarantined rows with their reasons but without their values, and the chart.

Chromium is not installed by this test: `.ci/run` installs it on CI (`apt-get install
chromium`). Without it the test is skipped locally and fails on CI.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess

import pytest

from expectations.validate import QualityGateFailed
from extract.generate import generate_night
from warehouse import db, nightly
from warehouse.quality_report import report_path

from helpers import query

pytestmark = pytest.mark.slow

NIGHT = datetime.date(2026, 10, 20)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        message = "chromium is not installed (apt-get install -y chromium; .ci/run does this on CI)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def render(page, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def held_back_night(settings):
    generate_night(settings.landing_dir, NIGHT, scale="tiny",
                   defects=["bad_date", "unknown_code", "duplicate_key", "end_before_start"])
    nightly.extract(NIGHT, settings)
    conn = db.connect(settings)
    # Rows lost after the load: raw no longer holds what the manifest recorded.
    deleted = query(conn, """delete from raw.crs__missing_episodes where _extract_date = %(night)s and _row_number in (
                                 select _row_number from raw.crs__missing_episodes where _extract_date = %(night)s
                                 order by 1 limit 2) returning 1""", {"night": NIGHT})
    assert len(deleted) == 2
    quarantined_lines = [r[0] for r in query(
        conn, "select original_line from raw.quarantine where extract_date = %s", (NIGHT,))]
    conn.close()
    with pytest.raises(QualityGateFailed) as failed:
        nightly.validate_raw(NIGHT, settings, run_id="quality_browser_test")
    return {"error": str(failed.value), "quarantined_lines": quarantined_lines,
            "report": report_path(settings, NIGHT)}


def test_the_gate_names_the_failing_expectation(held_back_night):
    assert "expect_table_row_count_to_equal" in held_back_night["error"]
    assert "raw.crs__missing_episodes" in held_back_night["error"]


def test_the_report_renders_in_chromium(held_back_night, tmp_path):
    page = held_back_night["report"]
    assert page.exists(), "the failing step should have built the night's report"
    dom = render(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # The night's status, and what BI readers see instead.
    assert 'id="night-status"' in html and "Held back" in html
    assert "was not published" in html
    # The failing expectation, by name, in the failed-checks table.
    failed_checks = html.split('id="failed-checks"', 1)[1].split("</table>", 1)[0]
    assert "expect_table_row_count_to_equal" in failed_checks and "raw.crs__missing_episodes" in failed_checks
    # Quarantined rows by feed and reason, with no source values.
    quarantine = html.split('id="quarantine"', 1)[1].split("</section>", 1)[0]
    for feed in ("crs__referrals", "crs__missing_episodes", "crs__cp_plans", "crs__looked_after_episodes"):
        assert feed in quarantine
    assert held_back_night["quarantined_lines"], "the seeded defects should have been quarantined"
    for line in held_back_night["quarantined_lines"]:
        assert line not in html
    # The trend chart: an inline SVG with a bar for this night.
    assert '<svg' in html and 'id="trend-chart"' in html and "bar-critical" in html
    assert f"{NIGHT.isoformat()}: " in html.split('id="trend-chart"', 1)[1]


def test_the_report_screenshot(held_back_night, tmp_path):
    shot = tmp_path / "quality-report.png"
    result = render(held_back_night["report"], tmp_path, f"--screenshot={shot}", "--window-size=1280,2200")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real page, not a blank one
    keep = os.environ.get("SAFEGUARDING_KEEP_SCREENSHOT")
    if keep:  # to look at it: SAFEGUARDING_KEEP_SCREENSHOT=/tmp/report.png pytest tests/test_quality_report_browser.py
        shutil.copyfile(shot, keep)
