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
    safeguarding builds           the latest builds of the marts, and which run holds marts_build (--release)
    safeguarding roles            create or update the warehouse's roles and grants (warehouse/audiences.yml, applied by warehouse/roles.py)
    safeguarding bi               Apache Superset with the partnership's dashboards, as the partnership role (safeguarding/bi.py)
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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from warehouse import embedded_postgres
from warehouse.dbt import dbt_target_dir
from warehouse.settings import DAGS_DIR, GX_PROJECT_DIR, PROJECT_ROOT, ConfigurationError, Settings, load, local_superuser_password_file

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
    # The connection cosmos builds dbt's profile from (SAFEGUARDING_DBT_TASKS=cosmos; docs/operations.md):
    # dbt runs as the transformer, as every step after the load does (warehouse/audiences.yml).
    try:
        from warehouse.audiences import declaration

        env.setdefault("AIRFLOW_CONN_SAFEGUARDING_WAREHOUSE",
                       settings.as_role(declaration().transformer.name).connection.url)
    except ConfigurationError:
        pass  # no transformer password (an external warehouse not set up yet): the run says so when it starts
    env.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")  # no usage pings from the pipeline
    # Sized to this machine, not Airflow's defaults (32 task slots: `airflow standalone` started 32
    # LocalExecutor workers, 5.5 GB, on two cores). One API worker serves one person's browser.
    env.setdefault("AIRFLOW__CORE__PARALLELISM", str(os.cpu_count() or 2))
    env.setdefault("AIRFLOW__API__WORKERS", "1")
    # Airflow runs tasks in subprocesses: make sure they import this project.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    # `airflow standalone` starts its components by the name `airflow`: the virtualenv's bin/
    # must be on PATH (`make airflow-ui` runs .venv/bin/safeguarding with no venv activated).
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join(filter(None, [venv_bin, env.get("PATH")]))
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
    from warehouse import db

    if settings.embedded:
        embedded_postgres.start(settings)
    conn = db.connect(settings)
    try:
        if settings.embedded:
            problems = db.not_our_warehouse(conn, settings)
            if any("data folder" in p for p in problems):
                raise ConfigurationError("The PostgreSQL on port " + str(settings.connection.port) + " is not "
                                         "this warehouse: " + "; ".join(problems) + ". Set SAFEGUARDING_PG_PORT.")
        db.mark_as_warehouse(conn)
    finally:
        conn.close()
    print(f"Warehouse: {settings.connection.display_url}" + (" (embedded)" if settings.embedded else ""))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from synthetic.generate import generate_night

    extract_date = date.fromisoformat(args.extract_date) if args.extract_date else (
        datetime.now(LONDON).date() - timedelta(days=1))

    started = time.monotonic()
    _step("Starting the warehouse")
    ensure_warehouse(settings)

    if not args.no_generate:
        _step(f"Generating a synthetic night's extract for {extract_date} (scale {args.scale}, seed {args.seed})")
        night = generate_night(settings.landing_dir, extract_date, scale=args.scale, seed=args.seed,
                               boroughs=args.boroughs)
        for feed, path in night.files.items():
            print(f"  {feed:32} {night.rows[feed]:>8,} rows  {path}")

    _step("Applying the warehouse roles and grants (warehouse/roles.py)")
    _apply_roles(settings)
    _prepare_dbt_manifest(settings)

    conf = {"extract_date": extract_date.isoformat()}
    if args.full_refresh:  # recompute every memoised rule (docs/marts.md, "Incremental build")
        conf["full_refresh"] = True
    outcome = _run_dag(settings, DAG_ID, conf, "nightly run", extract_date)
    if outcome.ok:
        _summary(settings, time.monotonic() - started)
    outcome.print_last_lines()
    return 0 if outcome.ok else 1


@dataclasses.dataclass
class RunOutcome:
    """What became of a DAG run the CLI started: printed last, so the end of the output tells it."""

    what: str
    extract_date: date
    run_id: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)
    status: str | None = None  # dq.nightly_runs.status
    warnings: int = 0
    report: Path | None = None
    quarantined: list[tuple[str, int]] = dataclasses.field(default_factory=list)  # (file, rows)

    @property
    def ok(self) -> bool:
        return not self.problems

    def print_last_lines(self) -> None:
        if self.ok:
            label = ("PUBLISHED" if self.status == "published"
                     else f"PUBLISHED WITH {self.warnings} WARNING{'S' if self.warnings != 1 else ''}")
            print(f"==> {self.what.capitalize()} for {self.extract_date}: {label} (run {self.run_id})")
        else:
            held = "HELD BACK" if self.status == "held_back" else "NOT PUBLISHED"
            print(f"\n==> {self.what.capitalize()} for {self.extract_date}: {held} (run {self.run_id}). "
                  "The previously published marts, if any, are unchanged.", file=sys.stderr)
            for problem in self.problems:
                print(f"    - {problem}", file=sys.stderr)
        total = sum(rows for _, rows in self.quarantined)
        if self.quarantined:
            print(f"    Quarantined rows: {total} (raw.quarantine_current; the rest of each file loaded):")
            for file, rows in self.quarantined:
                print(f"      {rows:>6}  {file}")
        else:
            print("    Quarantined rows: none")
        if self.report:
            print(f"    Quality report: {self.report}")


def _run_dag(settings: Settings, dag_id: str, conf: dict, what: str, extract_date: date) -> RunOutcome:
    """Run a DAG once in Airflow's local mode (`airflow dags test`), and find out what it really did.

    The logical date is now and the night is in the conf, so the run's times are true; the task
    logs go where the Airflow UI reads them; success means every task ran and the night was
    published (safeguarding/local_run.py)."""
    from .local_run import TaskLogFiles

    env = airflow_env(settings)
    _step("Preparing Airflow's metadata database (local mode, SQLite)")
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    subprocess.run([_bin("airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)

    logical = datetime.now(timezone.utc).replace(microsecond=0)
    _step(f"Running the {dag_id} DAG once with Airflow (extract date {extract_date}, logical date "
          f"{logical.isoformat()})")
    logs = TaskLogFiles(_base_log_folder(env), dag_id)
    process = subprocess.Popen([_bin("airflow"), "dags", "test", dag_id, logical.isoformat(), "--conf",
                                json.dumps(conf)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", bufsize=1)
    try:
        for line in process.stdout:
            sys.stdout.write(line)
            logs.feed(line)
    finally:
        logs.close()
        returncode = process.wait()
    outcome = RunOutcome(what, extract_date, run_id=logs.run_id)
    if returncode != 0:
        outcome.problems.append(f"`airflow dags test` exited {returncode}; the task logs are above")
    summary = _run_summary(env, dag_id, logs.run_id) if logs.run_id else None
    night = _night_outcome(settings, logs.run_id, extract_date)
    outcome.status, outcome.warnings = night.get("status"), night.get("warnings") or 0
    outcome.report, outcome.quarantined = night.get("report"), night.get("quarantined", [])
    from .local_run import outcome_problems

    outcome.problems += outcome_problems(summary, outcome.status, night.get("stage"), night.get("message"))
    return outcome


def _base_log_folder(env: dict[str, str]) -> Path:
    return Path(env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER") or Path(env["AIRFLOW_HOME"]) / "logs")


def _run_summary(env: dict[str, str], dag_id: str, run_id: str):
    """The run's state and its tasks' states, as Airflow recorded them (safeguarding/local_run.py)."""
    from .local_run import RunSummary

    result = subprocess.run([sys.executable, "-m", "safeguarding.local_run", "summary", dag_id, run_id],
                            env=env, capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    found = json.loads(lines[-1])
    return None if found is None else RunSummary(**found)


def _night_outcome(settings: Settings, run_id: str | None, extract_date: date) -> dict:
    """The run's row in dq.nightly_runs, its report, and the night's quarantined rows per file."""
    from warehouse import db, dq
    from expectations.quality_report import report_path

    found: dict = {}
    try:
        conn = db.connect(settings)
    except ConfigurationError as exc:
        return {"message": str(exc)}
    try:
        dq.ensure_schema(conn)
        rows = dq.rows(conn, "select status, stage, message, warnings from dq.nightly_runs where run_id = %s",
                       (run_id,)) if run_id else []
        if rows:
            found.update(rows[0])
        with conn.cursor() as cur:
            cur.execute("select count(*) from information_schema.columns where table_schema = 'raw' "
                        "and table_name = 'quarantine_current' and column_name in ('source_file', 'origin_file')")
            present = cur.fetchone()[0]
        if present:
            # Per file the council delivered: a converted return's or a mapped row's own file
            # (extract/returns/origins.py), else the delivered CSV.
            delivered = "coalesce(origin_file, source_file)" if present == 2 else "source_file"
            found["quarantined"] = [(r["file"], r["rows"]) for r in dq.rows(conn, f"""
                select {delivered} as file, count(distinct (batch_id, row_number)) as rows
                from raw.quarantine_current where extract_date = %s group by 1 order by 1""", (extract_date,))]
        conn.rollback()
    finally:
        conn.close()
    report = report_path(settings, extract_date)
    if report.exists():
        found["report"] = report
    return found


def cmd_import_returns(args: argparse.Namespace, settings: Settings) -> int:
    """Run the safeguarding_returns DAG once on a folder of statutory returns (docs/returns.md)."""
    from extract.returns import collection_date

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
    outcome = _run_dag(settings, RETURNS_DAG_ID, {"folder": str(folder), "year": args.year}, "returns import",
                       collection_date(args.year))
    if outcome.ok:
        print(f"\n==> Done in {time.monotonic() - started:.0f} s: the marts are published as at 31 March "
              f"{args.year}. What each mart holds for a returns-only council: docs/returns.md")
    outcome.print_last_lines()
    return 0 if outcome.ok else 1


def _apply_roles(settings: Settings) -> None:
    from warehouse import db, roles

    conn = db.connect(settings)
    try:
        for line in roles.apply_roles(conn, settings=settings):
            print(f"  {line}")
    finally:
        conn.close()


def _prepare_dbt_manifest(settings: Settings) -> None:
    """With SAFEGUARDING_DBT_TASKS=cosmos the DAG is rendered from dbt's manifest: write it first."""
    from orchestration.shared import dbt_task_mode

    if dbt_task_mode() == "cosmos":
        from warehouse.dbt import run_dbt

        _step("Writing dbt's manifest for the per-model tasks (dbt parse)")
        run_dbt(settings, ["parse", "--quiet"])


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

  The partnership's dashboards in Apache Superset, as the partnership's role (http://127.0.0.1:18580):
    make bi                # docs/access.md: which role reads what

  The Airflow UI on this same setup (then open http://localhost:8080):
    make airflow-ui        # = .venv/bin/safeguarding airflow standalone

  Stop the embedded PostgreSQL:  make stop      Remove all local state:  make clean
""")


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse import db

    print(f"Warehouse:     {settings.connection.display_url} ({'embedded' if settings.embedded else 'external'})")
    if settings.embedded:
        print(f"  data folder: {settings.pgdata_dir} "
              f"({'running' if embedded_postgres.is_running(settings) else 'stopped'})")
    problems: list[str] = []
    try:
        conn = db.connect(settings)
        try:
            problems = db.not_our_warehouse(conn, settings)
        finally:
            conn.close()
        if problems:
            print("  answers:     yes, but it is NOT this warehouse: " + "; ".join(problems))
        else:
            print(f"  answers:     yes: database {settings.connection.dbname}, marked {db.WAREHOUSE_MARKER!r}"
                  + (f", data folder {settings.pgdata_dir}" if settings.embedded else ""))
    except ConfigurationError as exc:
        if settings.embedded and not embedded_postgres.is_running(settings) and _port_open(settings):
            # Our server is stopped, yet something answers on its port (and refused our password):
            # another checkout's embedded server, or a system PostgreSQL.
            problems = [f"this state folder's server is stopped and another PostgreSQL holds the port "
                        f"{settings.connection.port} ({exc})"]
            print("  answers:     yes, but it is NOT this warehouse: " + problems[0])
        else:
            problems = [str(exc)]
            print(f"  answers:     no: {exc}")
    print(f"Landing files: {settings.landing_dir}")
    print(f"Airflow home:  {settings.airflow_home}")
    print(f"Data Docs:     {settings.data_docs_index} ({'present' if settings.data_docs_index.exists() else 'not built yet'})")
    return 1 if problems else 0


def _port_open(settings: Settings) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((settings.connection.host, settings.connection.port)) == 0


def cmd_builds(args: argparse.Namespace, settings: Settings) -> int:
    """The latest builds (dq.marts_builds); --release ends the active claim of a run known to be dead."""
    from warehouse import db
    from publication import builds

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
    for generated in (GX_PROJECT_DIR / "gx" / "uncommitted", dbt_target_dir()):
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
    run.add_argument("--boroughs", type=int, help="generate the first N boroughs of the scale (default: all)")
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
    gen.add_argument("--boroughs", type=int, help="the first N boroughs of the scale (default: all)")
    sub.add_parser("start", help="start the embedded PostgreSQL")
    sub.add_parser("stop", help="stop the embedded PostgreSQL")
    sub.add_parser("status", help="show settings and state")
    sub.add_parser("clean", help="stop and delete local state")
    sub.add_parser("psql", help="open psql on the warehouse")
    sub.add_parser("roles", help="create or update the warehouse roles and grants")
    builds_parser = sub.add_parser("builds", help="the latest builds of the marts (dq.marts_builds)")
    builds_parser.add_argument("--release", action="store_true",
                               help="end the claim on marts_build of a run that is dead (docs/operations.md)")
    bi = sub.add_parser("bi", help="Apache Superset with the partnership's dashboards (make install-bi first)")
    bi.add_argument("--port", type=int, default=18580, help="port on 127.0.0.1 (default 18580)")
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
            from synthetic.generate import generate_night

            night = generate_night(settings.landing_dir, date.fromisoformat(args.extract_date),
                                   scale=args.scale, seed=args.seed, boroughs=args.boroughs)
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
        if args.command == "bi":
            from . import bi

            ensure_warehouse(settings)
            _apply_roles(settings)  # the partnership role can log in with the password Superset is given
            return bi.serve(settings, args.port)
        if args.command == "quality-report":
            from expectations.quality_report import build_quality_report

            night = date.fromisoformat(args.extract_date) if args.extract_date else None
            print(build_quality_report(settings, extract_date=night))
            return 0
        if args.command == "psql":
            # The password in the environment, not on the command line, where `ps` shows it.
            bare = dataclasses.replace(settings.connection, password="")
            return subprocess.call([_psql_path(), bare.url],
                                   env={**os.environ, "PGPASSWORD": settings.connection.password})
        if args.command == "dbt":
            from warehouse.dbt import run_dbt

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
