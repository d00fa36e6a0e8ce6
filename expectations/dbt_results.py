"""dbt's own results for the night, in the dq schema beside Great Expectations' (``dq.dbt_results``).

Each night's ``dbt build`` runs about 340 nodes: the models (how long each took, how many rows it
wrote) and the data tests, some at severity *warn* (a warn-level test that fails does not stop
the build). Until issue #16 none of that reached auditors: it stayed in ``target/run_results.json``
and the task log. ``record`` reads dbt's run results and manifest after every build, passed or
failed, and keeps one row per node; the quality report shows them (expectations/quality_report.py).

Rows are written once per build and never edited (an audit trail, like the rest of dq).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DDL = """
create table if not exists dq.dbt_results (
    run_id           text        not null,
    extract_date     date        not null,
    invocation_id    text        not null,
    unique_id        text        not null,
    resource_type    text        not null,
    name             text        not null,
    model            text,
    column_name      text,
    status           text        not null,
    severity         text,
    failures         bigint,
    rows_affected    bigint,
    execution_seconds numeric,
    message          text,
    why              text,
    recorded_at      timestamptz not null default now(),
    primary key (invocation_id, unique_id)
);
comment on table dq.dbt_results is
    'One row per node of each night''s dbt build: models (status, seconds, rows written) and data tests '
    '(pass, warn, fail, error; severity; failing rows), from dbt''s run_results.json and manifest.';
create index if not exists dbt_results_run on dq.dbt_results (run_id);
"""


def record(conn, *, run_id: str, extract_date: date, target: Path) -> dict[str, int]:
    """Store the results of the build whose artefacts are in ``target``; counts by status.

    Nothing is stored (and {} returned) when dbt wrote no results (it failed before running)."""
    from warehouse import dq

    results_file, manifest_file = Path(target) / "run_results.json", Path(target) / "manifest.json"
    if not results_file.exists():
        return {}
    run_results = json.loads(results_file.read_text())
    nodes = {}
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    invocation = run_results["metadata"]["invocation_id"]
    rows = [_row(result, nodes.get(result["unique_id"], {})) for result in run_results["results"]]
    dq.ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('dq.dbt_results'))")
        dq.as_dq_writer(cur)  # the dq tables belong to the group both pipeline roles are in (warehouse/roles.py)
        cur.execute(DDL)
        cur.execute("select 1 from pg_roles where rolname = %s", (dq.AUDITOR_ROLE,))
        if cur.fetchone():
            cur.execute(f"grant select on dq.dbt_results to {dq.AUDITOR_ROLE}")
        for row in rows:
            cur.execute(
                """insert into dq.dbt_results (run_id, extract_date, invocation_id, unique_id, resource_type, name,
                       model, column_name, status, severity, failures, rows_affected, execution_seconds, message, why)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (invocation_id, unique_id) do nothing""",
                (run_id, extract_date, invocation, row["unique_id"], row["resource_type"], row["name"], row["model"],
                 row["column_name"], row["status"], row["severity"], row["failures"], row["rows_affected"],
                 row["execution_seconds"], row["message"], row["why"]))
    conn.commit()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def _row(result: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    unique_id = result["unique_id"]
    resource_type = unique_id.split(".", 1)[0]
    rows_affected = (result.get("adapter_response") or {}).get("rows_affected")
    model = None
    if resource_type in ("test", "unit_test"):
        attached = node.get("attached_node") or (node.get("depends_on", {}).get("nodes") or [None])[0]
        model = attached.rsplit(".", 1)[-1] if attached else node.get("model")
    elif resource_type in ("model", "seed", "snapshot"):
        model = node.get("name") or unique_id.rsplit(".", 1)[-1]
    severity = (node.get("config") or {}).get("severity") if resource_type == "test" else None
    return {
        "unique_id": unique_id,
        "resource_type": resource_type,
        "name": node.get("name") or unique_id.split(".")[2],
        "model": model,
        "column_name": node.get("column_name"),
        "status": result["status"],
        "severity": severity.lower() if isinstance(severity, str) else None,
        "failures": result.get("failures"),
        # Tests report the rows their query returned, not rows written; views report -1.
        "rows_affected": rows_affected if resource_type in ("model", "seed", "snapshot") and
        rows_affected is not None and rows_affected >= 0 else None,
        "execution_seconds": round(float(result.get("execution_time") or 0), 3),
        "message": result.get("message"),
        "why": (node.get("description") or "").strip() or None,
    }
