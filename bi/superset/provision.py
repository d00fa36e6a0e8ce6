"""Set up Apache Superset for the partnership's dashboards. Runs in Superset's own virtualenv.

    python provision.py --template            (at install) a metadata database, migrated and with
                                              Superset's roles, copied for each new state folder
    python provision.py                       the admin user and the dashboards of dashboards.yml
    python provision.py --serve HOST PORT     the same, then Superset's web server (what `superset
                                              run --with-threads` runs), in the same process: the
                                              app is made once (its imports take 10 to 15 seconds)

Reads SUPERSET_CONFIG_PATH (written by `safeguarding bi`, safeguarding/bi.py) and, for the second
form, SAFEGUARDING_BI_ADMIN_PASSWORD and SAFEGUARDING_BI_WAREHOUSE_URI: the warehouse as the
safeguarding_partnership role, password included, never written to the repository. Dashboards
are imported with Superset's own import command (its v1 export format), generated from
dashboards.yml, with ids derived from names so that importing again updates them in place.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE / "dashboards.yml"
NAMESPACE = uuid.UUID("6f0c2a52-5b1e-4c1d-9a53-0d5c1b7a6e21")
ADMIN = "admin"


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def export_contents(spec: dict, warehouse_uri: str) -> dict[str, str]:
    """dashboards.yml as Superset's v1 import files: {path in the bundle: YAML text}."""
    files: dict[str, dict] = {"metadata.yaml": {"version": "1.0.0", "type": "Dashboard",
                                                "timestamp": "2026-12-03T00:00:00+00:00"}}
    database_uuid = uid("database")
    files["databases/warehouse.yaml"] = {
        "database_name": spec["database"], "sqlalchemy_uri": warehouse_uri, "cache_timeout": None,
        "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
        "allow_dml": False, "allow_csv_upload": False, "extra": {"allows_virtual_table_explore": True},
        "uuid": database_uuid, "version": "1.0.0"}
    for name, dataset in spec["datasets"].items():
        schema, view = dataset["view"].split(".")
        files[f"datasets/warehouse/{name}.yaml"] = {
            "table_name": view, "schema": schema, "main_dttm_col": None, "sql": None, "params": None,
            "template_params": None, "filter_select_enabled": False, "fetch_values_predicate": None,
            "extra": None, "uuid": uid("dataset", name), "database_uuid": database_uuid, "version": "1.0.0",
            "metrics": [{"metric_name": "count", "verbose_name": "COUNT(*)", "metric_type": "count",
                         "expression": "COUNT(*)", "description": None, "d3format": None, "extra": None,
                         "warning_text": None}],
            "columns": [{"column_name": label, "verbose_name": label.replace("_", " "), "is_dttm": False,
                         "is_active": True, "type": "TEXT", "groupby": True, "filterable": True,
                         "expression": expression, "description": None, "python_date_format": None,
                         "extra": None} for label, expression in dataset["columns"].items()]}
    for board in spec["dashboards"]:
        position = {"DASHBOARD_VERSION_KEY": "v2",
                    "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
                    "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
                    "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": board["title"]}}}
        for i, chart in enumerate(board["charts"]):
            chart_uuid = uid("chart", board["slug"], chart["name"])
            dataset = spec["datasets"][chart["dataset"]]
            missing = set(chart["columns"]) - set(dataset["columns"])
            if missing:
                raise SystemExit(f"dashboards.yml: chart {chart['name']!r} shows {sorted(missing)}, "
                                 f"which dataset {chart['dataset']} does not define")
            params = {
                "viz_type": "table", "query_mode": "raw", "all_columns": chart["columns"],
                "order_by_cols": [json.dumps([column, direction == "asc"]) for column, direction in chart.get("order_by", [])],
                "row_limit": chart.get("row_limit", 100), "server_pagination": False, "include_search": False,
                "show_cell_bars": False, "adhoc_filters": ([{"expressionType": "SQL", "sqlExpression": chart["where"],
                                                             "clause": "WHERE", "filterOptionName": uid("filter", chart_uuid)}]
                                                           if chart.get("where") else []),
            }
            files[f"charts/{board['slug']}_{i}.yaml"] = {
                "slice_name": chart["name"], "viz_type": "table", "params": params, "query_context": None,
                "cache_timeout": None, "uuid": chart_uuid, "version": "1.0.0",
                "dataset_uuid": uid("dataset", chart["dataset"])}
            row, cell = f"ROW-{i}", f"CHART-{i}"
            position["GRID_ID"]["children"].append(row)
            position[row] = {"type": "ROW", "id": row, "children": [cell], "parents": ["ROOT_ID", "GRID_ID"],
                             "meta": {"background": "BACKGROUND_TRANSPARENT"}}
            position[cell] = {"type": "CHART", "id": cell, "children": [], "parents": ["ROOT_ID", "GRID_ID", row],
                              "meta": {"width": 12, "height": 60, "chartId": i + 1, "uuid": chart_uuid,
                                       "sliceName": chart["name"]}}
        files[f"dashboards/{board['slug']}.yaml"] = {
            "dashboard_title": board["title"], "description": None, "css": "", "slug": board["slug"],
            "uuid": uid("dashboard", board["slug"]), "position": position, "published": True, "version": "1.0.0",
            "metadata": {"color_scheme": "", "refresh_frequency": 0, "expanded_slices": {}, "label_colors": {},
                         "timed_refresh_immune_slices": [], "default_filters": "{}",
                         "native_filter_configuration": []}}
    return {path: yaml.safe_dump(content, sort_keys=False) for path, content in files.items()}


def migrate(app) -> None:
    """Superset's metadata schema, permissions and roles (what `superset db upgrade` and `superset init` do)."""
    import superset
    from flask_migrate import upgrade
    from superset import security_manager
    from superset.extensions import appbuilder

    upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()


def provision(app) -> None:
    from superset import db, security_manager
    from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand
    from superset.utils.core import override_user

    admin = security_manager.find_user(username=ADMIN)
    # Read once and dropped from the environment: the web server that may follow needs neither.
    password = os.environ.pop("SAFEGUARDING_BI_ADMIN_PASSWORD")
    warehouse_uri = os.environ.pop("SAFEGUARDING_BI_WAREHOUSE_URI")
    if admin is None:
        admin = security_manager.add_user(ADMIN, "Partnership", "Admin", "bi-admin@localhost",
                                          security_manager.find_role("Admin"), password=password)
    else:
        security_manager.reset_password(admin.id, password)
    db.session.commit()
    contents = export_contents(yaml.safe_load(SPEC.read_text()), warehouse_uri)
    with override_user(admin):
        ImportDashboardsCommand(contents, overwrite=True).run()
    db.session.commit()


def main(argv: list[str]) -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        if "--template" in argv:
            migrate(app)
        else:
            migrate(app)  # a no-op on a migrated template: cheap, and right after an upgrade of Superset
            provision(app)
    if "--serve" in argv:
        from werkzeug.serving import run_simple

        host, port = argv[argv.index("--serve") + 1:argv.index("--serve") + 3]
        print(f"provisioned; serving on http://{host}:{port}", flush=True)
        run_simple(host, int(port), app, use_reloader=False, use_debugger=False, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
