"""`safeguarding`: the command line for the embedded default and for operators.

    safeguarding run              generate a night's extract and run the nightly DAG once, end to end
    safeguarding start | stop     start or stop the embedded PostgreSQL
    safeguarding status           where everything is, and whether the warehouse answers
    safeguarding clean            stop, then delete local state (.local/: database, Airflow home, landing files)
    safeguarding import-returns   import a folder of statutory returns (SSDA903, CIN census, Annex A) and publish marts
    safeguarding generate         write a night's synthetic extract files to the landing folder
    safeguarding dbt ARGS...      run dbt with the warehouse settings (e.g. `safeguarding dbt docs generate`)
    safeguarding airflow ARGS...  run Airflow with the project's AIRFLOW_HOME (e.g. `safeguarding airflow standalone`)
    safeguarding psql             open psql on the warehouse
    safeguarding quality-report   build the nightly quality report (HTML) from the dq schema (docs/quality.md)
    safeguarding roles            create or update the warehouse's roles and grants (warehouse/roles.py)
    safeguarding builds           the latest builds of the marts, and which run holds marts_build (--release)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from . import embedded_postgres
from .settings import DAGS_DIR, PROJECT_ROOT, ConfigurationError, Settings, load, local_superuser_password_file

LONDON = ZoneInfo("Europe/London")
DAG_ID = "safeguarding_nightly"
RETURNS_DAG_ID = "safeguarding_returns"


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow's local mode for the embedded default: SQLite metadata under .local/airflow."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(settings.airflow_home))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", "Europe/London")
    env.setdefault("SAFEGUARDING_STATE_DIR", str(settings.state_dir))
    # The connection cosmos builds dbt's profile from (SAFEGUARDING_DBT_TASKS=cosmos; docs/operations.md).
    env.setdefault("AIRFLOW_CONN_SAFEGUARDING_WAREHOUSE", settings.connection.url)
    env.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")  # no usage pings from the pipeline
    # Airflow runs tasks in subprocesses: make sure they import this project.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _psql_path() -> str:
    try:
        return embedded_postgres._bin("psql")
    except ConfigurationError:
        return "psql"


def _step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def ensure_warehouse(settings: Settings) -> None:
    from . import db

    if settings.embedded:
        embedded_postgres.start(settings)
    db.connect(settings).close()
    print(f"Warehouse: {settings.connection.display_url}" + (" (embedded)" if settings.embedded else ""))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from extract.generate import generate_night

    extract_date = date.fromisoformat(args.extract_date) if args.extract_date else (
        datetime.now(LONDON).date() - timedelta(days=1))
    # The run the scheduler would start for this extract: 02:00 London the next morning.
    logical = datetime(extract_date.year, extract_date.month, extract_date.day, 2, 0, tzinfo=LONDON) + timedelta(days=1)

    started = time.monotonic()
    _step("Starting the warehouse")
    ensure_warehouse(settings)

    if not args.no_generate:
        _step(f"Generating a synthetic night's extract for {extract_date} (scale {args.scale}, seed {args.seed})")
        night = generate_night(settings.landing_dir, extract_date, scale=args.scale, seed=args.seed)
        for feed, path in night.files.items():
            print(f"  {feed:32} {night.rows[feed]:>8,} rows  {path}")

    _step("Applying the warehouse roles and grants (warehouse/roles.py)")
    _apply_roles(settings)
    _prepare_dbt_manifest(settings)

    conf = {"extract_date": extract_date.isoformat()}
    if args.full_refresh:  # recompute every memoised rule (docs/marts.md, "Incremental build")
        conf["full_refresh"] = True
    returncode = _run_dag(settings, DAG_ID, logical, conf, "nightly run")
    if returncode == 0:
        _summary(settings, time.monotonic() - started)
    return returncode


def _run_dag(settings: Settings, dag_id: str, logical: datetime, conf: dict, what: str) -> int:
    """Run a DAG once in Airflow's local mode (`airflow dags test`); 0 when the run succeeded."""
    env = airflow_env(settings)
    _step("Preparing Airflow's metadata database (local mode, SQLite)")
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    subprocess.run([_bin("airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)

    _step(f"Running the {dag_id} DAG once with Airflow (logical date {logical.isoformat()})")
    result = subprocess.run(
        [_bin("airflow"), "dags", "test", dag_id, logical.isoformat(), "--conf", json.dumps(conf)], env=env)
    if result.returncode != 0:
        print(f"\nThe {what} FAILED (exit {result.returncode}); the task logs are above. "
              "The previously published marts, if any, are unchanged.", file=sys.stderr)
        return result.returncode
    state = _run_state(env, dag_id, logical)
    if state != "success":
        print(f"\nThe {what} ended in state {state!r}: see the task logs above. "
              "The previously published marts, if any, are unchanged.", file=sys.stderr)
        return 1
    return 0


def cmd_import_returns(args: argparse.Namespace, settings: Settings) -> int:
    """Run the safeguarding_returns DAG once on a folder of statutory returns (docs/returns.md)."""
    folder = Path(args.folder).resolve()
    if not folder.is_dir():
        print(f"safeguarding import-returns: {folder} is not a folder", file=sys.stderr)
        return 2
    started = time.monotonic()
    _step("Starting the warehouse")
    ensure_warehouse(settings)
    _step("Applying the warehouse roles and grants (warehouse/roles.py)")
    _apply_roles(settings)
    # Each import is its own run: the logical date is now, the data's date is 31 March of the year.
    logical = datetime.now(LONDON).replace(microsecond=0)
    returncode = _run_dag(settings, RETURNS_DAG_ID, logical, {"folder": str(folder), "year": args.year},
                          "returns import")
    if returncode == 0:
        print(f"\n==> Done in {time.monotonic() - started:.0f} s: the marts are published as at 31 March "
              f"{args.year}. What each mart holds for a returns-only council: docs/returns.md")
    return returncode


def _apply_roles(settings: Settings) -> None:
    from . import db, roles

    conn = db.connect(settings)
    try:
        for line in roles.apply_roles(conn):
            print(f"  {line}")
    finally:
        conn.close()


def _prepare_dbt_manifest(settings: Settings) -> None:
    """With SAFEGUARDING_DBT_TASKS=cosmos the DAG is rendered from dbt's manifest: write it first."""
    from .orchestration import dbt_task_mode

    if dbt_task_mode() == "cosmos":
        from .dbt import run_dbt

        _step("Writing dbt's manifest for the per-model tasks (dbt parse)")
        run_dbt(settings, ["parse", "--quiet"])


def _run_state(env: dict[str, str], dag_id: str, logical: datetime) -> str:
    """The DAG run's final state as Airflow recorded it (`airflow dags test` may exit 0 when a task failed)."""
    out = subprocess.run([_bin("airflow"), "dags", "state", dag_id, logical.isoformat()],
                         env=env, capture_output=True, text=True).stdout.strip().splitlines()
    return out[-1].split(",", 1)[0].strip() if out else "unknown"


def _psql_command(settings: Settings) -> str:
    """A psql command line that does not show the password (the embedded one is read from its file)."""
    c = dataclasses.replace(settings.connection, password="")
    if settings.embedded:
        return f'PGPASSWORD="$(cat {local_superuser_password_file(settings.state_dir)})" {_psql_path()} "{c.url}"'
    return f'{_psql_path()} "{c.url}"'  # psql asks for the password


def _summary(settings: Settings, seconds: float) -> None:
    print(f"""
==> Done in {seconds:.0f} s. Where to look:

  The mart (one row per missing episode):
    {_psql_command(settings)} -c "select return_month, count(*) filter (where in_denominator) as returned, round(avg(offered_within_72h::int) * 100, 1) as pct_offered_within_72h from marts.mart_return_home_interviews group by 1 order by 1"

  Data quality (Great Expectations Data Docs):
    {settings.data_docs_index}

  What every mart and column means (dbt's docs site, one file):
    {settings.dbt_docs_dir / "static_index.html"}

  The Airflow UI on this same setup (then open http://localhost:8080):
    make airflow-ui        # = .venv/bin/safeguarding airflow standalone

  Stop the embedded PostgreSQL:  make stop      Remove all local state:  make clean
""")


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from . import db

    print(f"Warehouse:     {settings.connection.display_url} ({'embedded' if settings.embedded else 'external'})")
    if settings.embedded:
        print(f"  data folder: {settings.pgdata_dir} "
              f"({'running' if embedded_postgres.is_running(settings) else 'stopped'})")
    try:
        db.connect(settings).close()
        print("  answers:     yes")
    except ConfigurationError as exc:
        print(f"  answers:     no: {exc}")
    print(f"Landing files: {settings.landing_dir}")
    print(f"Airflow home:  {settings.airflow_home}")
    print(f"Data Docs:     {settings.data_docs_index} ({'present' if settings.data_docs_index.exists() else 'not built yet'})")
    return 0


def cmd_builds(args: argparse.Namespace, settings: Settings) -> int:
    """The latest builds (dq.marts_builds); --release ends the active claim of a run known to be dead."""
    from . import builds, db

    conn = db.connect(settings)
    try:
        if args.release:
            when = f"{datetime.now(LONDON):%Y-%m-%d %H:%M %Z}"
            ended = builds.release(conn, f"released by hand (safeguarding builds --release) at {when}")
            print(f"Released {ended.describe()}." if ended else "No build holds marts_build: nothing to release.")
        for b in builds.recent(conn):
            print(f"{b.started_at:%Y-%m-%d %H:%M}  {b.status:10} {b.extract_date}  run {b.run_id}  build {b.build_id}"
                  + (f"\n    {b.message}" if b.message else ""))
    finally:
        conn.close()
    return 0


def cmd_clean(args: argparse.Namespace, settings: Settings) -> int:
    if settings.embedded:
        embedded_postgres.stop(settings)
    if settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
        print(f"Removed {settings.state_dir}")
    for generated in (PROJECT_ROOT / "expectations" / "gx" / "uncommitted", PROJECT_ROOT / "dbt_project" / "target"):
        if generated.exists():
            shutil.rmtree(generated)
            print(f"Removed {generated}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="safeguarding", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="generate a night's extract and run the nightly DAG once")
    run.add_argument("--extract-date", help="YYYY-MM-DD; default yesterday (London)")
    run.add_argument("--scale", default="borough", help="generator scale: tiny, borough, region")
    run.add_argument("--seed", type=int, default=20261123)
    run.add_argument("--no-generate", action="store_true", help="use files already in the landing folder")
    run.add_argument("--full-refresh", action="store_true",
                     help="dbt --full-refresh: recompute every row instead of only the new or changed ones")
    imp = sub.add_parser("import-returns", help="import a folder of statutory returns (903, CIN census, Annex A) "
                                                "and publish marts as at 31 March of the year")
    imp.add_argument("folder", help="folder holding the return files")
    imp.add_argument("--year", type=int, required=True, help="collection year: the returns count to 31 March of it")
    gen = sub.add_parser("generate", help="write a night's synthetic extract files")
    gen.add_argument("--extract-date", required=True)
    gen.add_argument("--scale", default="borough")
    gen.add_argument("--seed", type=int, default=20261123)
    sub.add_parser("start", help="start the embedded PostgreSQL")
    sub.add_parser("stop", help="stop the embedded PostgreSQL")
    sub.add_parser("status", help="show settings and state")
    sub.add_parser("clean", help="stop and delete local state")
    sub.add_parser("psql", help="open psql on the warehouse")
    sub.add_parser("roles", help="create or update the warehouse roles and grants")
    builds_parser = sub.add_parser("builds", help="the latest builds of the marts (dq.marts_builds)")
    builds_parser.add_argument("--release", action="store_true",
                               help="end the claim on marts_build of a run that is dead (docs/operations.md)")
    report = sub.add_parser("quality-report", help="build the nightly quality report (HTML) from the dq schema")
    report.add_argument("--extract-date", help="YYYY-MM-DD; default the latest night validated")
    for passthrough in ("dbt", "airflow"):
        p = sub.add_parser(passthrough, help=f"run {passthrough} with the warehouse settings")
        p.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    try:
        settings = load()
        if args.command == "run":
            return cmd_run(args, settings)
        if args.command == "import-returns":
            return cmd_import_returns(args, settings)
        if args.command == "generate":
            from extract.generate import generate_night

            night = generate_night(settings.landing_dir, date.fromisoformat(args.extract_date),
                                   scale=args.scale, seed=args.seed)
            for feed, path in night.files.items():
                print(f"{feed:32} {night.rows[feed]:>8,} rows  {path}")
            return 0
        if args.command == "start":
            ensure_warehouse(settings)
            return 0
        if args.command == "stop":
            if settings.embedded and embedded_postgres.stop(settings):
                print("Stopped the embedded PostgreSQL.")
            else:
                print("The embedded PostgreSQL is not running." if settings.embedded
                      else "The warehouse is external (SAFEGUARDING_WAREHOUSE_URL): nothing to stop.")
            return 0
        if args.command == "status":
            return cmd_status(args, settings)
        if args.command == "clean":
            return cmd_clean(args, settings)
        if args.command == "roles":
            ensure_warehouse(settings)
            _apply_roles(settings)
            return 0
        if args.command == "builds":
            return cmd_builds(args, settings)
        if args.command == "quality-report":
            from .quality_report import build_quality_report

            night = date.fromisoformat(args.extract_date) if args.extract_date else None
            print(build_quality_report(settings, extract_date=night))
            return 0
        if args.command == "psql":
            # The password in the environment, not on the command line, where `ps` shows it.
            bare = dataclasses.replace(settings.connection, password="")
            return subprocess.call([_psql_path(), bare.url],
                                   env={**os.environ, "PGPASSWORD": settings.connection.password})
        if args.command == "dbt":
            from .dbt import run_dbt

            return run_dbt(settings, args.args, check=False)
        if args.command == "airflow":
            settings.airflow_home.mkdir(parents=True, exist_ok=True)
            return subprocess.call([_bin("airflow"), *args.args], env=airflow_env(settings))
    except ConfigurationError as exc:
        print(f"safeguarding: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
