"""The nightly quality report: one static HTML page per night, for auditors and on-call engineers.

    build_quality_report(settings)                    the latest night (and the index)
    build_quality_report(settings, extract_date=d)    a given night

Writes, under ``<state dir>/reports/quality/`` (``.local/reports/quality/`` by default):

* ``<extract date>.html``: the night's gates (every expectation, failures first),
  whether the night was published, published with warnings, or held back (and
  what BI readers see instead), the rows the extract layer quarantined (counts by
  feed and reason, and a few examples by row number: never the values, which are
  children's data), the files loaded, and the trend over recent nights with a chart;
* ``latest.html``: a copy of the newest night's page;
* ``index.html``: every night with a report, newest first.

Everything comes from the warehouse (the ``dq`` schema, ``raw.load_manifest``,
``raw.quarantine``) with SQL, so the page shows exactly what auditors can query.
The page is self-contained: CSS inline, the chart an inline SVG drawn here, no
scripts and nothing fetched from the network, so it can be attached to an email
or archived as evidence.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse import db, dq
from warehouse.roles import MARTS_BUILD
from warehouse.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "quality_report.html.j2"
TREND_NIGHTS = 14  # nights shown in the trend table and chart
QUARANTINE_EXAMPLES = 20  # example quarantined rows shown (row numbers and reasons only)

STATUS_LABELS = {
    dq.PUBLISHED: "Published",
    dq.PUBLISHED_WITH_WARNINGS: "Published with warnings",
    dq.HELD_BACK: "Held back",
    dq.RUNNING: "Running",
}


def reports_dir(settings: Settings) -> Path:
    return settings.state_dir / "reports" / "quality"


def report_path(settings: Settings, extract_date: datetime.date) -> Path:
    return reports_dir(settings) / f"{extract_date.isoformat()}.html"


class NoQualityResults(RuntimeError):
    """There is nothing to report: no night has been validated yet."""


def build_quality_report(settings: Settings, extract_date: datetime.date | None = None) -> Path:
    """Render the report for one night (default: the latest run's night), plus latest.html and index.html.

    Returns the night's report path.
    """
    conn = db.connect(settings)
    try:
        dq.ensure_schema(conn)
        night = _night(conn, extract_date)
        if night is None:
            raise NoQualityResults(
                "No night has been validated yet (dq.nightly_runs is empty)" if extract_date is None
                else f"No run has been recorded for extract date {extract_date} in dq.nightly_runs")
        context = _report_context(conn, settings, night)
        nights_with_reports = dq.rows(conn, """
            select distinct on (extract_date) extract_date, status, critical_failures, warnings, updated_at
            from dq.nightly_runs order by extract_date desc, updated_at desc""")
    finally:
        conn.close()

    out_dir = reports_dir(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = report_path(settings, night["extract_date"])
    _write(path, _render(TEMPLATE, context))
    # latest.html follows the newest extract date, not the last one rebuilt (a re-run of an old night).
    newest = max(n["extract_date"] for n in nights_with_reports)
    if night["extract_date"] == newest:
        _write(out_dir / "latest.html", _render(TEMPLATE, context))
    existing = {n["extract_date"] for n in nights_with_reports if report_path(settings, n["extract_date"]).exists()}
    _write(out_dir / "index.html", _render("quality_index.html.j2", {
        "nights": [n | {"status_label": STATUS_LABELS.get(n["status"], n["status"]),
                        "file": f"{n['extract_date'].isoformat()}.html"}
                   for n in nights_with_reports if n["extract_date"] in existing],
        "generated_at": _now(),
        "css": _css(),
    }))
    log.info("quality report for %s: %s", night["extract_date"], path)
    return path


# --- what the page shows -------------------------------------------------------------------------

def _night(conn, extract_date: datetime.date | None) -> dict[str, Any] | None:
    if extract_date is None:
        found = dq.rows(conn, "select * from dq.nightly_runs order by updated_at desc limit 1")
    else:
        found = dq.rows(conn, "select * from dq.nightly_runs where extract_date = %s "
                              "order by updated_at desc limit 1", (extract_date,))
    return found[0] if found else None


def _report_context(conn, settings: Settings, night: dict[str, Any]) -> dict[str, Any]:
    extract_date = night["extract_date"]
    checkpoints = dq.rows(conn, """
        select distinct on (checkpoint) validation_run_id, checkpoint, success, suites, evaluated,
               critical_failures, warnings, validated_at
        from dq.validation_runs where run_id = %s
        order by checkpoint, validated_at desc, validation_run_id desc""", (night["run_id"],))
    results = dq.rows(conn, """
        select r.checkpoint, r.suite, r.expectation, r.severity, r.success, r.observed_value,
               r.unexpected_count, r.unexpected_sample, r.sample_kind, r.exception_message, r.why
        from dq.validation_results r
        where r.validation_run_id = any(%s)
        order by r.success, case r.severity when 'critical' then 0 else 1 end, r.checkpoint desc, r.suite,
                 r.expectation""", ([c["validation_run_id"] for c in checkpoints],))
    for r in results:
        r["result"] = "passed" if r["success"] else ("FAILED" if r["severity"] == "critical" else "warning")
        r["sample_text"] = _sample_text(r["unexpected_sample"], r["sample_kind"])
    failures = [r for r in results if not r["success"]]
    suites: dict[str, dict[str, Any]] = {}
    for r in results:
        s = suites.setdefault(r["suite"], {"suite": r["suite"], "checkpoint": r["checkpoint"], "checks": 0,
                                           "critical": 0, "warnings": 0})
        s["checks"] += 1
        s["critical"] += (not r["success"]) and r["severity"] == "critical"
        s["warnings"] += (not r["success"]) and r["severity"] == "warning"

    published_now = dq.rows(conn, """
        select extract_date, run_id, status, published_at from dq.nightly_runs
        where status like 'published%%' order by published_at desc limit 1""")
    trend = _trend(conn, extract_date)
    quarantine = _quarantine(conn, extract_date)
    conservation = _conservation(conn, night["run_id"])
    return {
        "night": night,
        "status_label": STATUS_LABELS.get(night["status"], night["status"]),
        "checkpoints": checkpoints,
        "failures": failures,
        "results": results,
        "suites": sorted(suites.values(), key=lambda s: (-s["critical"], -s["warnings"], s["suite"])),
        "evaluated": len(results),
        "critical_count": sum(1 for r in failures if r["severity"] == "critical"),
        "warning_count": sum(1 for r in failures if r["severity"] == "warning"),
        "bi_readers_see": published_now[0] if published_now else None,
        "held_back_marts": _build_tables(conn) if night["status"] == dq.HELD_BACK else [],
        "quarantine": quarantine,
        "dbt": _dbt(conn, night["run_id"]),
        "conservation": conservation,
        "manifest": _manifest(conn, extract_date),
        "trend": trend,
        "chart_svg": trend_chart_svg(trend),
        "data_docs": settings.data_docs_index.as_uri(),
        "data_docs_exists": settings.data_docs_index.exists(),
        "generated_at": _now(),
        "css": _css(),
    }


def _dbt(conn, run_id: str) -> dict[str, Any]:
    """dbt's results for the run (dq.dbt_results, expectations/dbt_results.py): the latest build's
    models with their rows and seconds, and every data test, the failing and warning ones first."""
    if not _table_exists(conn, "dq", "dbt_results"):
        return {"available": False}
    nodes = dq.rows(conn, """
        select * from dq.dbt_results where run_id = %s and invocation_id = (
            select invocation_id from dq.dbt_results where run_id = %s order by recorded_at desc limit 1)""",
                    (run_id, run_id))
    if not nodes:
        return {"available": False}
    order = {"error": 0, "fail": 1, "warn": 2, "skipped": 3, "pass": 4}
    tests = sorted((n for n in nodes if n["resource_type"] == "test"),
                   key=lambda n: (order.get(n["status"], 5), n["model"] or "", n["name"]))
    models = sorted((n for n in nodes if n["resource_type"] in ("model", "seed", "snapshot")),
                    key=lambda n: -(n["execution_seconds"] or 0))
    counts: dict[str, int] = {}
    for n in tests:
        counts[n["status"]] = counts.get(n["status"], 0) + 1
    return {"available": True, "tests": tests, "not_passed": [t for t in tests if t["status"] != "pass"],
            "models": models, "test_counts": counts,
            "model_errors": sum(1 for m in models if m["status"] not in ("success", "no-op")),
            "rows_written": sum(m["rows_affected"] or 0 for m in models),
            "seconds": sum(float(m["execution_seconds"] or 0) for m in models)}


def _trend(conn, up_to: datetime.date) -> list[dict[str, Any]]:
    """The latest run of each of the last TREND_NIGHTS nights up to this one, oldest first."""
    nights = dq.rows(conn, """
        select * from (
            select distinct on (extract_date) extract_date, run_id, status, critical_failures, warnings
            from dq.nightly_runs where extract_date <= %s
            order by extract_date desc, updated_at desc) latest
        order by extract_date desc limit %s""", (up_to, TREND_NIGHTS))
    quarantined = {}
    if _table_exists(conn, "raw", "quarantine"):
        quarantined = {r["extract_date"]: r["rows"] for r in dq.rows(conn, f"""
            select extract_date, count(*) as rows from {_quarantined_rows(conn)}
            where extract_date = any(%s) group by extract_date""", ([n["extract_date"] for n in nights],))}
    for n in nights:
        n["quarantined"] = int(quarantined.get(n["extract_date"], 0))
        n["status_label"] = STATUS_LABELS.get(n["status"], n["status"])
    return list(reversed(nights))


def _conservation(conn, run_id: str) -> list[dict[str, Any]]:
    """The run's conservation table (expectations/conservation.py), grouped by mart:
    rows in = rows out + exclusions for each feed a person-level mart is built from."""
    if not _table_exists(conn, "dq", "mart_conservation"):
        return []
    marts: dict[str, dict[str, Any]] = {}
    for r in dq.rows(conn, """select mart, feed, rows_in, rows_out, excluded, balanced, exclusions, message
                             from dq.mart_conservation where run_id = %s order by mart, feed""", (run_id,)):
        r["exclusions_text"] = ", ".join(f"{code} {n}" for code, n in sorted((r["exclusions"] or {}).items()))
        marts.setdefault(r["mart"], {"mart": r["mart"], "feeds": [], "balanced": True})
        marts[r["mart"]]["feeds"].append(r)
        marts[r["mart"]]["balanced"] &= bool(r["balanced"])
    return list(marts.values())


def _quarantine(conn, extract_date: datetime.date) -> dict[str, Any]:
    """Quarantined rows of the night: counts by feed and reason, and examples by row number.

    Only the location (feed, file, row, column) and the reason are shown; the
    original row holds children's data and stays in raw.quarantine, which only
    the loader and auditors can read.
    """
    if not _table_exists(conn, "raw", "quarantine"):
        return {"available": False, "by_reason": [], "examples": [], "total": 0}
    columns = _columns(conn, "raw", "quarantine")
    feed = _first(columns, "feed", "feed_id")
    reason = _first(columns, "reason", "message")
    if not feed or not reason or "extract_date" not in columns:
        log.warning("raw.quarantine has no feed/reason/extract_date columns (%s): not shown", ", ".join(columns))
        return {"available": False, "by_reason": [], "examples": [], "total": 0}
    where = "extract_date = %s"
    # Reasons may quote the offending value (a date of birth, an id): counted by their wording
    # with the values taken out, and only that wording is shown.
    counts: dict[tuple[str, str], int] = {}
    rows = _quarantined_rows(conn)
    for r in dq.rows(conn, f"""select {feed} as feed, {reason} as reason, count(*) as rows from {rows}
                              where {where} group by 1, 2""", (extract_date,)):
        key = (r["feed"], reason_without_values(r["reason"]))
        counts[key] = counts.get(key, 0) + r["rows"]
    by_reason = [{"feed": f, "reason": text, "rows": n}
                 for (f, text), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    # Location columns only: never the original row's values.
    # A return converted from XML or a workbook, or mapped into a nightly feed: where the row is in
    # the file the council handed over (extract/returns/origins.py), rather than our converted CSV.
    delivered = _first(columns, "source_file", "file")
    if delivered and "origin_file" in columns:
        delivered = f"coalesce(origin_file, {delivered})"
    location = [(c, label) for c, label in (
        (_first(columns, "row_number", "source_row_number", "_row_number", "row"), "row"),
        (_first(columns, "line_number", "line", "source_line"), "line"),
        (_first(columns, "column_name", "column", "source_column"), "column"),
        (delivered, "file"),
        (_first(columns, "origin_location"), "where in the file")) if c]
    select = ", ".join([f"{feed} as feed"] + [f'{c} as "{label}"' for c, label in location] + [f"{reason} as reason"])
    order = ", ".join(["1"] + [str(i + 2) for i in range(len(location))])
    examples = dq.rows(conn, f"select {select} from {rows} where {where} order by {order} limit %s",
                       (extract_date, QUARANTINE_EXAMPLES))
    for e in examples:
        e["reason"] = reason_without_values(e["reason"])
        if e.get("file"):
            e["file"] = os.path.basename(str(e["file"]))
    return {"available": True, "by_reason": by_reason, "examples": examples,
            "example_columns": ["feed"] + [label for _, label in location] + ["reason"],
            "total": sum(r["rows"] for r in by_reason)}


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_VALUE_AFTER_EQUALS = re.compile(r"=\s*[^,)\s]+")
_DIGITS = re.compile(r"\b[\w-]*\d[\w:.\-/]*")


def reason_without_values(reason: str | None) -> str:
    """A quarantine reason with any source values taken out, e.g.
    "date_of_birth: not a date: '2012-13-01'" -> "date_of_birth: not a date: …".

    Quoted text, values after "=", and any token with a digit in it (ids, dates, times,
    line numbers) become "…". Column names and the wording of the problem stay.
    """
    text = _QUOTED.sub("…", reason or "")
    text = _VALUE_AFTER_EQUALS.sub("=…", text)
    text = _DIGITS.sub("…", text)
    return re.sub(r"…(\s*…)+", "…", text).strip()


def _quarantined_rows(conn) -> str:
    """The quarantined rows of the published batches only: a corrected re-delivery replaces a batch,
    and the rows quarantined from the batch it replaced (kept in raw.quarantine for the record) are
    no longer the night's."""
    return "raw.quarantine_current" if _table_exists(conn, "raw", "quarantine_current") else "raw.quarantine"


def _manifest(conn, extract_date: datetime.date) -> list[dict[str, Any]]:
    if not _table_exists(conn, "raw", "load_manifest"):
        return []
    rows = dq.rows(conn, """
        select distinct on (feed) feed, status, rows_loaded, source_file, message, finished_at
        from raw.load_manifest where extract_date = %s
        order by feed, batch_id desc""", (extract_date,))
    for r in rows:
        r["source_file"] = os.path.basename(r["source_file"] or "")
    return rows


def _build_tables(conn) -> list[str]:
    return [r["table_name"] for r in dq.rows(conn, """
        select table_name from information_schema.tables where table_schema = %s and table_name <> %s
        order by 1""", (MARTS_BUILD, dq.PUBLICATION_TABLE))]


def _sample_text(sample: Any, kind: str | None) -> str:
    if kind == "withheld":
        return "withheld (may not be pseudonymised)"
    if not sample:
        return ""
    shown = ", ".join(str(v) for v in sample)
    if kind == "row_number":
        return f"rows {shown}"
    if kind == "key":
        # Pseudonymous keys are 64 characters: the first 12 are enough to find the row.
        return ", ".join((str(v)[:12] + "…") if isinstance(v, str) and len(v) == 64 else str(v) for v in sample)
    return shown


# --- the chart -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Colours:
    critical: str = "#b3261e"
    warning: str = "#b26a00"
    quarantined: str = "#5b6b7a"
    passed: str = "#1e7b34"
    axis: str = "#666"


COLOURS = _Colours()
STATUS_COLOURS = {dq.PUBLISHED: COLOURS.passed, dq.PUBLISHED_WITH_WARNINGS: COLOURS.warning,
                  dq.HELD_BACK: COLOURS.critical, dq.RUNNING: COLOURS.axis}


def trend_chart_svg(trend: list[dict[str, Any]], width: int = 760, height: int = 260) -> str:
    """An inline SVG: per night, failed critical and warning checks as stacked bars, quarantined rows
    as a line, and the night's status as a coloured square under its bar. Drawn by hand: no
    charting library, nothing from the network."""
    left, right, top, bottom = 48, 56, 28, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(trend), 1)
    slot = plot_w / n
    bar_w = max(6.0, min(36.0, slot * 0.6))
    max_checks = max([t["critical_failures"] + t["warnings"] for t in trend] + [1])
    max_quarantined = max([t["quarantined"] for t in trend] + [1])

    def y_checks(value: float) -> float:
        return top + plot_h - plot_h * value / max_checks

    def y_quarantined(value: float) -> float:
        return top + plot_h - plot_h * value / max_quarantined

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="trend-chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             "<title>Failed checks and quarantined rows, night by night</title>",
             f'<defs><pattern id="held-back-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
             f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fdf1f0"/>'
             f'<line x1="0" y1="0" x2="0" y2="8" stroke="{COLOURS.critical}" stroke-width="3"/></pattern></defs>']
    # Axes and gridlines (left axis: failed checks; right axis: quarantined rows).
    for i in range(5):
        value = max_checks * i / 4
        y = y_checks(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{COLOURS.axis}">'
                     f'{value:.3g}</text>')
        q = max_quarantined * i / 4
        parts.append(f'<text x="{left + plot_w + 6}" y="{y_quarantined(q) + 4:.1f}" fill="{COLOURS.quarantined}">'
                     f'{q:.3g}</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2:.0f}" transform="rotate(-90 12 {top + plot_h / 2:.0f})" '
                 f'text-anchor="middle" fill="{COLOURS.axis}">failed checks</text>')
    parts.append(f'<text x="{width - 10}" y="{top + plot_h / 2:.0f}" '
                 f'transform="rotate(90 {width - 10} {top + plot_h / 2:.0f})" text-anchor="middle" '
                 f'fill="{COLOURS.quarantined}">quarantined rows</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
                 f'stroke="{COLOURS.axis}"/>')
    points = []
    for i, t in enumerate(trend):
        x = left + slot * i + (slot - bar_w) / 2
        centre = x + bar_w / 2
        label = t["extract_date"].isoformat()
        if t["status"] == dq.HELD_BACK:
            # A held-back night is not a clean one, whatever its counts (a rejected file fails before
            # any check runs): a hatched band over the whole height, labelled.
            parts.append(f'<rect class="held-back" x="{left + slot * i + 1:.1f}" y="{top}" width="{slot - 2:.1f}" '
                         f'height="{plot_h}" fill="url(#held-back-hatch)" stroke="{COLOURS.critical}" '
                         f'stroke-width="1"><title>{label}: held back (not published)</title></rect>')
            parts.append(f'<text class="held-back-label" x="{centre:.1f}" y="{top + 12}" text-anchor="middle" '
                         f'fill="{COLOURS.critical}" font-weight="bold">held back</text>')
        y_crit = y_checks(t["critical_failures"])
        parts.append(f'<rect class="bar-critical" x="{x:.1f}" y="{y_crit:.1f}" width="{bar_w:.1f}" '
                     f'height="{top + plot_h - y_crit:.1f}" fill="{COLOURS.critical}">'
                     f'<title>{label}: {t["critical_failures"]} critical failures</title></rect>')
        y_warn = y_checks(t["critical_failures"] + t["warnings"])
        parts.append(f'<rect class="bar-warning" x="{x:.1f}" y="{y_warn:.1f}" width="{bar_w:.1f}" '
                     f'height="{y_crit - y_warn:.1f}" fill="{COLOURS.warning}">'
                     f'<title>{label}: {t["warnings"]} warnings</title></rect>')
        colour = STATUS_COLOURS.get(t["status"], COLOURS.axis)
        parts.append(f'<rect class="status" x="{centre - 5:.1f}" y="{top + plot_h + 6}" width="10" height="10" '
                     f'fill="{colour}"><title>{label}: {t["status_label"]}</title></rect>')
        parts.append(f'<text x="{centre:.1f}" y="{top + plot_h + 30}" text-anchor="end" '
                     f'transform="rotate(-40 {centre:.1f} {top + plot_h + 30})" fill="{COLOURS.axis}">'
                     f'{t["extract_date"]:%d %b}</text>')
        points.append(f"{centre:.1f},{y_quarantined(t['quarantined']):.1f}")
    if points:
        parts.append(f'<polyline class="quarantined" points="{" ".join(points)}" fill="none" '
                     f'stroke="{COLOURS.quarantined}" stroke-width="2" stroke-dasharray="4 3"/>')
        for point in points:
            cx, cy = point.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{COLOURS.quarantined}"/>')
    # Legend.
    legend = [(COLOURS.critical, "critical failures"), (COLOURS.warning, "warnings"),
              (COLOURS.quarantined, "quarantined rows (right axis)"), ("url(#held-back-hatch)", "held back")]
    x = left
    for colour, text in legend:
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="17" fill="#333">{text}</text>')
        x += 24 + 7 * len(text)
    parts.append("</svg>")
    return "\n".join(p for p in parts if p)


# --- plumbing ------------------------------------------------------------------------------------

def _render(template: str, context: dict[str, Any]) -> str:
    import jinja2  # installed with Airflow

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**context)


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader (or a browser) never sees half a page


def _css() -> str:
    return (TEMPLATES_DIR / "quality_report.css").read_text(encoding="utf-8")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _table_exists(conn, schema: str, table: str) -> bool:
    found = dq.rows(conn, "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
                    (schema, table))
    return bool(found)


def _columns(conn, schema: str, table: str) -> list[str]:
    return [r["column_name"] for r in dq.rows(conn, """
        select column_name from information_schema.columns where table_schema = %s and table_name = %s
        order by ordinal_position""", (schema, table))]


def _first(columns: list[str], *candidates: str) -> str | None:
    """The first candidate column the table has, quoted (raw.quarantine is another engineer's table)."""
    for c in candidates:
        if c in columns:
            return '"' + c + '"'
    return None
