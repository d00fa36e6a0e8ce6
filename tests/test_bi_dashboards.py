"""The partnership's dashboards in a real BI tool, in a real browser (issue 17).

Apache Superset (installed by `make install-bi` into .venv-superset, as CI's install step does)
is started by `safeguarding bi`'s own code (safeguarding/bi.py) on a free port, over the shared
published night (conftest.published_night), with the dashboards of bi/superset/dashboards.yml
connected as the partnership's role. Headless Chromium (Debian's, driven by Playwright; nothing
downloaded) logs in and opens each dashboard; the figures it shows are checked against the
marts, summed here from the council's unsuppressed monthly marts: a visible figure is the true
one, and a figure shown as "c" is 1 to 5 or was hidden by secondary suppression. A chart that
asks for person-level rows, built as the partnership role, fails with the database's refusal.
"""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal

import pytest

from warehouse import db
from safeguarding import bi

from conftest import free_port
from helpers import chromium, dbt_var, query

pytestmark = pytest.mark.slow

THRESHOLD = dbt_var("suppression_threshold")



@pytest.fixture(scope="module")
def superset(published_night, tmp_path_factory):
    if not (bi.BI_VENV / "bin" / "superset").exists():
        message = "Superset is not installed: `make install-bi` (make test runs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    saved = {k: os.environ.get(k) for k in published_night["environ"]}
    os.environ.update(published_night["environ"])  # the partnership role's password
    port = free_port()
    log = tmp_path_factory.mktemp("superset") / "superset.log"
    try:
        process = bi.start(published_night["settings"], port, log=log)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield {"url": f"http://127.0.0.1:{port}", "password": bi.admin_password(published_night["settings"]), "log": log}
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture(scope="module")
def browser(superset):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = launched.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(superset["url"] + "/login/")
        page.fill("#username", bi.ADMIN_USER)
        page.fill("#password", superset["password"])
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**", timeout=120_000)
        yield page
        launched.close()


def dashboard_tables(page, base: str, slug: str) -> dict[str, list[dict]]:
    """{chart title: its rows as {header: cell text}}, as Chromium renders the dashboard."""
    page.goto(f"{base}/superset/dashboard/{slug}/")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=120_000)
    charts = page.locator(".dashboard-component-chart-holder")
    page.wait_for_function(
        "n => document.querySelectorAll('.dashboard-component-chart-holder table tbody tr').length > 0 "
        "&& document.querySelectorAll('.dashboard-component-chart-holder table').length >= n",
        arg=charts.count(), timeout=120_000)
    tables = {}
    for i in range(charts.count()):
        holder = charts.nth(i)
        title = holder.locator(".header-title, [data-test='editable-title']").first.inner_text().strip()
        headers = [h.inner_text().strip() for h in holder.locator("table thead th").all()]
        rows = [[c.inner_text().strip() for c in row.locator("td").all()] for row in holder.locator("table tbody tr").all()]
        tables[title] = [dict(zip(headers, row)) for row in rows]
    return tables


def check(shown: str, truth: int | None, suppressed: bool, where) -> str:
    """A shown figure is the truth, or "c" for a suppressed one; a true 1 to 5 is never shown."""
    if shown == "c":
        assert suppressed and truth is not None, where
        return "c"
    assert not suppressed, where
    assert shown == ("" if truth is None else str(truth)), (where, shown, truth)
    assert truth is None or not 1 <= truth <= THRESHOLD, where
    return "shown"


def test_the_return_interview_dashboard_shows_the_marts(published_night, superset, browser):
    tables = dashboard_tables(browser, superset["url"], "return-home-interviews")
    [by_month] = [rows for title, rows in tables.items() if "by month of return" in title]
    conn = db.connect(published_night["settings"])
    truth = {month.strftime("%Y-%m"): row for month, *row in query(conn, """
        select report_month, sum(returned_episodes_count), sum(offer_measured_count), sum(offered_within_72h_count),
               sum(interviewed_within_72h_count),
               sum(no_rhi_recorded_count), sum(police_notified_not_recorded_count)
        from marts.mart_return_home_interviews_monthly group by 1""")}
    flags = {month.strftime("%Y-%m"): row for month, *row in query(conn, """
        select report_month, is_returned_episodes_count_suppressed, is_offer_measured_count_suppressed,
               is_offered_within_72h_count_suppressed,
               is_interviewed_within_72h_count_suppressed, is_no_rhi_recorded_count_suppressed,
               is_police_notified_not_recorded_count_suppressed
        from marts.mart_partnership_return_home_interviews where is_total_row""")}
    conn.close()
    assert len(by_month) == min(24, len(truth))
    outcomes = []
    for row in by_month:
        month = row["month"]
        for i, header in enumerate(["returned", "offers measured", "offered within 72h", "interviewed within 72h",
                                    "no interview recorded", "police only"]):
            outcomes.append(check(row[header], truth[month][i], flags[month][i], (month, header)))
    assert "shown" in outcomes and "c" in outcomes


def test_the_pathway_plan_dashboard_shows_the_marts(published_night, superset, browser):
    tables = dashboard_tables(browser, superset["url"], "pathway-plans")
    [by_month] = [rows for title, rows in tables.items() if "by statutory due month" in title]
    conn = db.connect(published_night["settings"])
    truth = {(m.strftime("%Y-%m") if m else "not due yet"): row for m, *row in query(conn, """
        select statutory_due_month, sum(young_people_count), sum(statutory_measured_count), sum(statutory_on_time_count),
               sum(review_overdue_count)
        from marts.mart_pathway_plans_monthly group by 1""")}
    flags = {(m.strftime("%Y-%m") if m else "not due yet"): row for m, *row in query(conn, """
        select statutory_due_month, is_young_people_count_suppressed, is_statutory_measured_count_suppressed,
               is_statutory_on_time_count_suppressed, is_review_overdue_count_suppressed
        from marts.mart_partnership_pathway_plans where is_total_row""")}
    conn.close()
    assert by_month
    outcomes = [check(row[h], truth[row["due month"]][i], flags[row["due month"]][i], (row["due month"], h))
                for row in by_month for i, h in enumerate(["young people", "measured", "on time", "review overdue"])]
    assert "shown" in outcomes


def test_the_scorecard_dashboard_shows_the_scorecard(published_night, superset, browser):
    tables = dashboard_tables(browser, superset["url"], "partnership-scorecard")
    [rows] = tables.values()
    conn = db.connect(published_night["settings"])
    card = {(m.strftime("%Y-%m"), f"{measure_id} {name}"): (num, den, value, suppressed, rag) for m, measure_id, name, num, den, value, suppressed, rag in query(conn, """
        select measure_month, measure_id, measure_name, numerator, denominator, value, is_suppressed, rag_status
        from marts.mart_partnership_scorecard""")}
    conn.close()
    assert len(rows) > 12
    for row in rows:
        numerator, denominator, value, suppressed, rag = card[(row["month"], row["measure"])]
        if suppressed:
            assert (row["numerator"], row["denominator"], row["value"]) == ("c", "c", "c"), row
            continue
        assert row["numerator"] == ("" if numerator is None else str(numerator)), row
        assert row["denominator"] == ("" if denominator is None else str(denominator)), row
        percent = None if value is None else (value * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)  # as PostgreSQL rounds
        assert row["value"] == ("" if value is None else f"{percent}%"), row
        assert row["status"] == (rag or ""), row


def test_a_person_level_chart_as_the_partnership_role_fails(superset, browser):
    """Built in Superset over the partnership's connection, a chart of children's pseudonymous keys
    is refused by the database. On the council's view Superset lets the dataset be defined
    (PostgreSQL's catalogs show every table's columns to everyone: the rows are what the role may not
    read) and the chart fails in the browser; on the mart itself not even the dataset can be made."""
    base = superset["url"]
    token = browser.request.get(f"{base}/api/v1/security/csrf_token/").json()["result"]
    headers = {"X-CSRFToken": token, "Referer": base, "Content-Type": "application/json"}
    [database] = browser.request.get(f"{base}/api/v1/database/").json()["result"]
    charts = {}
    for schema in ("council", "marts"):
        dataset = browser.request.post(f"{base}/api/v1/dataset/", headers=headers, data=json.dumps(
            {"database": database["id"], "schema": schema, "table_name": "mart_return_home_interviews"}))
        if schema == "marts":  # Superset does not even find the mart's table through this connection
            assert dataset.status == 422, dataset.text()
            continue
        assert dataset.status == 201, dataset.text()
        params = {"datasource": f"{dataset.json()['id']}__table", "viz_type": "table", "query_mode": "raw",
                  "all_columns": ["person_key", "returned_at"], "row_limit": 10}
        chart = browser.request.post(f"{base}/api/v1/chart/", headers=headers, data=json.dumps(
            {"slice_name": f"Children's keys from {schema} (must fail)", "viz_type": "table",
             "datasource_id": dataset.json()["id"], "datasource_type": "table", "params": json.dumps(params)}))
        assert chart.status == 201, chart.text()
        charts[schema] = chart.json()["id"]
    assert set(charts) == {"council"}
    for schema, chart_id in charts.items():
        browser.goto(f"{base}/explore/?slice_id={chart_id}")
        browser.wait_for_selector("text=/permission denied/i", timeout=120_000)
        assert f"permission denied for schema {schema}" in browser.content()
        assert browser.locator("table tbody tr").count() == 0  # no row of it reached the page
