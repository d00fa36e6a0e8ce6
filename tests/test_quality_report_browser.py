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
import time

import pytest

from expectations.validate import QualityGateFailed
from synthetic.generate import generate_night
from warehouse import db
from pipeline import nightly
from expectations.quality_report import report_path

from helpers import chromium, query

pytestmark = pytest.mark.slow

NIGHT = datetime.date(2026, 10, 20)
CHILD_ID = "P-TRUTH-4711"
DATE_OF_BIRTH = "2013/05/17"
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"  # no name resolves: the network is off
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")



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
    # A child's id delivered twice and a date of birth in the wrong format: GX keeps up to five such
    # values per failed check, and they must not stay on disk (expectations/gx/uncommitted).
    (first, second), = query(conn, "select min(_row_number), max(_row_number) from raw.crs__people "
                                   "where _extract_date = %s", (NIGHT,))
    query(conn, "update raw.crs__people set person_id = %s where _extract_date = %s and _row_number in (%s, %s) "
                "returning 1", (CHILD_ID, NIGHT, first, second))
    query(conn, "update raw.crs__people set date_of_birth = %s where _extract_date = %s and _row_number = %s "
                "returning 1", (DATE_OF_BIRTH, NIGHT, first))
    conn.close()
    started = time.time() - 1
    with pytest.raises(QualityGateFailed) as failed:
        nightly.validate_raw(NIGHT, settings, run_id="quality_browser_test")
    return {"error": str(failed.value), "quarantined_lines": quarantined_lines,
            "report": report_path(settings, NIGHT), "started": started,
            "people_rows": (first, second)}


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


def test_the_report_prints_to_one_a4_pdf_with_every_failed_check_whole(held_back_night, settings, tmp_path):
    """Printed as evidence: A4 pages, and every failed check's suite, name and observed value in
    the text (wide cells wrap inside the page instead of being cut off at its edge)."""
    import pypdf

    pdf = tmp_path / "report.pdf"
    result = render(held_back_night["report"], tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert result.returncode == 0 and pdf.exists(), result.stderr[-2000:]
    reader = pypdf.PdfReader(pdf)
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, (width, height)  # A4 in points
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    conn = db.connect(settings)
    failed = query(conn, "select suite, expectation, coalesce(observed_value, '') from dq.validation_results "
                         "where run_id = 'quality_browser_test' and not success")
    passed = query(conn, "select expectation from dq.validation_results where run_id = 'quality_browser_test' "
                         "and success limit 1")
    conn.close()
    assert failed
    for suite, expectation, observed in failed:
        for part in (suite, expectation, observed):
            assert "".join(part.split()) in text, part
    assert "Heldback" in text
    assert "".join(passed[0][0].split()) in text  # the collapsed list of every check is printed open


def test_the_report_screenshot(held_back_night, tmp_path):
    shot = tmp_path / "quality-report.png"
    result = render(held_back_night["report"], tmp_path, f"--screenshot={shot}", "--window-size=1280,2200")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real page, not a blank one
    keep = os.environ.get("SAFEGUARDING_KEEP_SCREENSHOT")
    if keep:  # to look at it: SAFEGUARDING_KEEP_SCREENSHOT=/tmp/report.png pytest tests/test_quality_report_browser.py
        shutil.copyfile(shot, keep)


# --- GX Data Docs: offline, truthful, and keeping no child's values ------------------------------

def written_since(started: float) -> list:
    from warehouse.settings import GX_PROJECT_DIR

    return [p for p in (GX_PROJECT_DIR / "gx" / "uncommitted").rglob("*")
            if p.is_file() and p.stat().st_mtime >= started]


def test_no_child_identifying_value_is_kept_in_the_gx_folder(held_back_night):
    written = written_since(held_back_night["started"])
    assert any(p.suffix == ".json" and "validations" in p.parts for p in written)  # the results were stored
    for path in written:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert CHILD_ID not in text, path
        assert DATE_OF_BIRTH not in text and DATE_OF_BIRTH.replace("/", "\\/") not in text, path


def test_data_docs_render_offline_with_no_external_request(held_back_night):
    """Opened in Chromium with the network off: the index, tonight's failed suite and its
    expectation suite page render with their styles and scripts, and nothing is requested from
    anywhere but the file system."""
    from playwright.sync_api import sync_playwright

    from warehouse.settings import GX_PROJECT_DIR

    index = GX_PROJECT_DIR / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    requested, failed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox", OFFLINE])
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.on("request", lambda r: requested.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        # "load", not "networkidle": these are files, and on a busy machine half a second without a
        # request (networkidle) can take longer than the timeout. The page's scripts and fonts are awaited.
        page.goto(index.as_uri(), wait_until="load")
        # bootstrap-table (a script) built the list of validations; Bootstrap's styles apply.
        rows = page.locator("#section-1-content-block-2-1-body-table tbody tr")
        rows.first.wait_for()
        assert rows.count() > 0
        page.evaluate("document.fonts.ready.then(() => true)")
        assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
        # Tonight's people suite, which failed critical checks: its page, then its suite's page.
        [people] = [p for p in written_since(held_back_night["started"])
                    if p.suffix == ".html" and "validations" in p.parts and "crs__people" in p.parts]
        assert f"'_table_row_link_path': '{people.relative_to(index.parent).as_posix()}'" in index.read_text()
        page.goto(people.as_uri(), wait_until="load")
        body = page.inner_text("body")
        assert "Failed" in body and "person_id" in body
        assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        page.locator("a[href*='expectations/raw/crs__people.html']").first.click()
        page.wait_for_load_state("load")
        assert "raw.crs__people" in page.inner_text("body") and "person_id" in page.inner_text("body")
        browser.close()
    external = [url for url in requested if not url.startswith(("file://", "data:"))]
    assert external == [] and failed == [], (external, failed)


def test_a_suite_failing_only_warnings_shows_as_passed_with_warnings(held_back_night, settings):
    from warehouse.settings import GX_PROJECT_DIR

    conn = db.connect(settings)
    outcome = dict(query(conn, """select suite, case when bool_or(not success and severity = 'critical') then 'critical'
                                              when bool_or(not success) then 'warning' else 'passed' end
                                  from dq.validation_results where run_id = 'quality_browser_test' group by suite"""))
    conn.close()
    pages = {p.parent.parent.parent.name: p.read_text(encoding="utf-8")
             for p in written_since(held_back_night["started"]) if p.suffix == ".html" and "validations" in p.parts}
    warned = [suite for suite, result in outcome.items() if result == "warning"]
    assert warned, outcome  # the changed ids leave references dangling: warning-level checks fail
    for suite in warned:
        page = pages[suite.split(".", 1)[1]]
        assert "Passed with warnings" in page and "</i> Failed" not in page, suite
    assert "</i> Failed" in pages["crs__people"]  # a critical failure still says Failed
    index = (GX_PROJECT_DIR / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").read_text()
    assert "'_validation_success_text': 'Passed with warnings'" in index
