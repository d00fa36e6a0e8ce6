"""The whole night at 1, 3, 11 and 33 boroughs: does every step's cost grow with its rows, and no faster?

    .venv/bin/python -m bench.region                       # 1, 3, 11 and 33 boroughs (about an hour, idle)
    .venv/bin/python -m bench.region --boroughs 1 3 11     # fewer
    .venv/bin/python -m bench.region --resume              # skip borough counts already in the results

For each borough count N (the first N boroughs of the generator's `region` scale: 10 years of
history each, `--boroughs N`), on a FRESH state folder and embedded PostgreSQL:

1. generate two consecutive nights, once (aside: not timed; kept in --data-dir and reused by later
   runs, marked complete by a `.complete-<night>` file);
2. run the nightly steps for the first night, in the DAG's order, each in its own Python process as
   an Airflow task would run (`pipeline.nightly`: extract, validate_raw, build_marts,
   validate_marts, publish, document_marts; no Airflow around them, whose per-task start-up does not
   grow with rows);
3. the same for the next night: the incremental night (dbt's memo models reuse the first night's
   results, docs/marts.md "Incremental build"), then once more `build_marts --full-refresh` of that
   same night, the full refresh the incremental night must be well under.

Per step it records wall time; CPU seconds of the step's Python process and its children (dbt)
and of PostgreSQL (all its processes, from /proc); peak resident memory of the Python process, of
its largest child, and of the largest PostgreSQL process (VmHWM, which counts the shared buffers a
backend touched, and the largest private memory seen, RssAnon, sampled every 0.2 s); the rows the
step handled; the 1-minute load average before and after (the machine is shared: figures taken
with a load average above 1 before a step are marked busy). For build_marts, the ten slowest dbt
nodes. Cost per row is the step's time over the night's rows (all feeds' rows loaded), and the
report compares it with 1 borough's.

Results: bench/results/region_scale.json (every step of every run; rewritten after each step) and
bench/results/region_scale.md (the tables). Each step's output goes to --data-dir/logs/. The state
folders are deleted after each borough count (--keep-state keeps the last one). Ports: --port.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dbt_incremental import postgres_cpu_seconds  # noqa: E402

STEPS = ("extract", "validate_raw", "build_marts", "validate_marts", "publish", "document_marts")
RESULTS_JSON = ROOT / "bench" / "results" / "region_scale.json"
RESULTS_MD = ROOT / "bench" / "results" / "region_scale.md"
BUSY_LOAD = 1.0
STEP_RESULT = "BENCH-STEP-RESULT "
# The code that writes the generated files (generated_once).
GENERATOR_FILES = ("synthetic/generate.py", "extract/feeds.py", "extract/reference_data.py",
                   "dbt_project/reference_data/service_areas.csv", "dbt_project/reference_data/teams.csv")


# --- one step, in its own process ------------------------------------------------------------------

def run_step_here(step: str, night: str, full_refresh: bool) -> int:
    """What the child process does: run the step, then print its own and its children's usage."""
    import logging

    from pipeline import nightly

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kwargs = {"full_refresh": True} if full_refresh else {}
    nightly.STEPS[step](date.fromisoformat(night), **kwargs)
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(STEP_RESULT + json.dumps({
        "python_cpu_seconds": me.ru_utime + me.ru_stime, "children_cpu_seconds": children.ru_utime + children.ru_stime,
        "python_peak_rss_mb": me.ru_maxrss / 1024, "largest_child_peak_rss_mb": children.ru_maxrss / 1024,
    }), flush=True)
    return 0


class PostgresMemory:
    """Samples every PostgreSQL process of the embedded server while a step runs: the largest peak
    resident set (VmHWM: includes the shared buffers a process touched) and the largest private
    resident memory (RssAnon) of any one process."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster
        self.peak_hwm_kb = self.peak_anon_kb = 0
        self.peak_hwm_process = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def _sample(self) -> None:
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                pid, ppid = int(status.parent.name), int(fields["PPid"])
                if pid != self.postmaster and ppid != self.postmaster:
                    continue
                hwm, anon = int(fields["VmHWM"].split()[0]), int(fields["RssAnon"].split()[0])
                cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, KeyError, ValueError):  # the process ended while we looked
                continue
            if hwm > self.peak_hwm_kb:
                self.peak_hwm_kb, self.peak_hwm_process = hwm, cmdline.strip()[:80]
            self.peak_anon_kb = max(self.peak_anon_kb, anon)


def timed_step(env: dict, settings, step: str, night: date, log_file: Path, full_refresh: bool = False) -> dict:
    load_before = os.getloadavg()[0]
    pg_before = postgres_cpu_seconds(settings)
    postmaster = int((settings.pgdata_dir / "postmaster.pid").read_text().split()[0])
    command = [sys.executable, "-m", "bench.region", "--run-step", step, "--night", night.isoformat()]
    if full_refresh:
        command.append("--full-refresh")
    started = time.monotonic()
    with PostgresMemory(postmaster) as pg_memory, log_file.open("w") as log:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.monotonic() - started
    pg_cpu = postgres_cpu_seconds(settings) - pg_before
    usage = {}
    for line in log_file.read_text(errors="replace").splitlines():
        if line.startswith(STEP_RESULT):
            usage = json.loads(line[len(STEP_RESULT):])
    return {
        "step": step + (" --full-refresh" if full_refresh else ""), "night": night.isoformat(),
        "ok": result.returncode == 0, "wall_seconds": round(wall, 1),
        "python_cpu_seconds": round(usage.get("python_cpu_seconds", 0) + usage.get("children_cpu_seconds", 0), 1),
        "postgres_cpu_seconds": round(pg_cpu, 1),
        "python_peak_rss_mb": round(usage.get("python_peak_rss_mb", 0)),
        "largest_child_peak_rss_mb": round(usage.get("largest_child_peak_rss_mb", 0)),
        "postgres_peak_rss_mb": round(pg_memory.peak_hwm_kb / 1024),
        "postgres_peak_private_mb": round(pg_memory.peak_anon_kb / 1024),
        "postgres_peak_rss_process": pg_memory.peak_hwm_process,
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "log": str(log_file),
    }


# --- what each step handled ---------------------------------------------------------------------

def night_rows(settings, night: date) -> dict[str, int]:
    """Rows loaded for the night, feed by feed (raw.load_manifest)."""
    from warehouse import db

    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("select feed, rows_loaded from raw.load_manifest where extract_date = %s "
                        "and status in ('loaded', 'duplicate') order by feed", (night,))
            return {feed: int(rows or 0) for feed, rows in cur.fetchall()}
    finally:
        conn.close()


def schema_rows(settings, schema: str) -> int:
    """Rows in every table of a schema (exact counts)."""
    from psycopg2 import sql

    from warehouse import db

    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = %s "
                        "and table_type = 'BASE TABLE'", (schema,))
            total = 0
            for (table,) in cur.fetchall():
                cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))
                total += cur.fetchone()[0]
            return total
    finally:
        conn.close()


def dbt_nodes(limit: int = 10) -> tuple[list[dict], int]:
    """The slowest nodes of the last dbt build (run_results.json), and the rows its models wrote."""
    from warehouse.dbt import dbt_target_dir

    results = json.loads((dbt_target_dir() / "run_results.json").read_text())
    nodes = sorted(results["results"], key=lambda r: r["execution_time"], reverse=True)
    written = sum((r.get("adapter_response") or {}).get("rows_affected") or 0 for r in results["results"]
                  if r["unique_id"].split(".")[0] in ("model", "snapshot", "seed"))
    return ([{"node": r["unique_id"].split(".", 2)[-1] if r["unique_id"].startswith("test.") else
              r["unique_id"].split(".")[-1], "kind": r["unique_id"].split(".")[0],
              "seconds": round(r["execution_time"], 1)} for r in nodes[:limit]], written)


# --- one borough count ----------------------------------------------------------------------------

def generator_version() -> str:
    """A digest of the generator's code: files generated by other code are not reused."""
    digest = hashlib.sha256()
    for path in GENERATOR_FILES:
        digest.update((ROOT / path).read_bytes())
    return digest.hexdigest()[:16]


def _marked_version(marker: Path) -> str | None:
    try:
        return json.loads(marker.read_text()).get("generator")
    except (ValueError, AttributeError):  # a marker of an earlier benchmark: no version in it
        return None


def generated_once(landing: Path, nights: list[date], label: str, **options) -> Path:
    """The nights' files (synthetic.generate.generate_night with `options`), generated once and kept
    in `landing`, in date order (an incremental feed's later file holds what changed since the
    earlier one). A `.complete-<night>` file marks a night written whole by this generator's
    code; files of another version of the generator are deleted and generated again."""
    from synthetic.generate import generate_night

    version = generator_version()
    markers = {night: landing / f".complete-{night.isoformat()}" for night in nights}
    stale = [m for m in markers.values() if m.exists() and _marked_version(m) != version]
    if stale:
        print(f"{label} files in {landing} are from another version of the generator: generating them again",
              flush=True)
        shutil.rmtree(landing)
    for night, marker in markers.items():
        if marker.exists():
            continue
        print(f"{label} generating {night} into {landing} (aside: not timed)", flush=True)
        started = time.monotonic()
        generated = generate_night(landing, night, **options)
        marker.write_text(json.dumps({"generator": version, "options": options, "rows": generated.rows}, indent=1))
        print(f"{label} generated {sum(generated.rows.values()):,} rows in {time.monotonic() - started:.0f} s",
              flush=True)
    return landing


def generate(data_dir: Path, boroughs: int, nights: list[date]) -> Path:
    """The nights' files for the first N boroughs of the region, generated once and kept."""
    return generated_once(data_dir / f"region-{boroughs}", nights, f"[{boroughs:>2} boroughs]",
                          scale="region", boroughs=boroughs)


def run_boroughs(args, boroughs: int, nights: list[date], record) -> None:
    from warehouse import embedded_postgres
    from safeguarding.cli import _apply_roles
    from warehouse.settings import load

    landing = generate(args.data_dir, boroughs, nights)
    state = args.data_dir / f"state-{boroughs}"
    logs = args.data_dir / "logs" / f"{boroughs}-boroughs"
    env = {**os.environ, "SAFEGUARDING_STATE_DIR": str(state), "SAFEGUARDING_PG_PORT": str(args.port),
           "SAFEGUARDING_LANDING_DIR": str(landing), "PYTHONPATH": str(ROOT)}
    if state.exists():
        embedded_postgres.stop(load(env))
        shutil.rmtree(state)
    settings = load(env)  # after the old state is gone: settings make the state's secrets (the password)
    logs.mkdir(parents=True, exist_ok=True)
    embedded_postgres.start(settings, quiet=True)
    try:
        _apply_roles(settings)
        plan = [(nights[0], step, False) for step in STEPS] + [(nights[1], step, False) for step in STEPS]
        plan.append((nights[1], "build_marts", True))
        for night, step, full_refresh in plan:
            label = f"{step}{' --full-refresh' if full_refresh else ''}"
            print(f"[{boroughs:>2} boroughs] {night} {label} ... (load average {os.getloadavg()[0]:.2f})",
                  flush=True)
            row = timed_step(env, settings, step, night,
                             logs / f"{night}-{step}{'-full-refresh' if full_refresh else ''}.log", full_refresh)
            if not row["ok"]:
                raise SystemExit(f"{label} failed for {night} at {boroughs} boroughs: see {row['log']}")
            loaded = night_rows(settings, night)
            row["night_rows"] = sum(loaded.values())
            if step == "extract":
                row["rows"], row["rows_by_feed"] = row["night_rows"], loaded
            elif step == "validate_raw":
                row["rows"] = row["night_rows"]
            elif step == "build_marts":
                row["slowest_dbt_nodes"], row["rows"] = dbt_nodes()
            elif step == "validate_marts":
                row["rows"] = schema_rows(settings, "marts_build")
            elif step in ("publish", "document_marts"):
                row["rows"] = schema_rows(settings, "marts")
            row["boroughs"] = boroughs
            record(row)
            print(f"[{boroughs:>2} boroughs] {night} {label}: {'ok' if row['ok'] else 'FAILED'} "
                  f"{row['wall_seconds']} s wall, CPU {row['python_cpu_seconds']} s Python + "
                  f"{row['postgres_cpu_seconds']} s PostgreSQL, peak RSS {row['python_peak_rss_mb']} MB Python / "
                  f"{row['largest_child_peak_rss_mb']} MB child / {row['postgres_peak_rss_mb']} MB PostgreSQL, "
                  f"{row.get('rows', 0):,} rows", flush=True)
    finally:
        embedded_postgres.stop(settings)
        if not args.keep_state:
            shutil.rmtree(state, ignore_errors=True)


# --- the report ------------------------------------------------------------------------------------

def report(results: dict) -> str:
    runs = results["runs"]
    counts = sorted({r["boroughs"] for r in runs})
    lines = [f"# Region scale: the night at {', '.join(map(str, counts))} boroughs", "",
             f"Command: `{results['command']}`  ", f"Measured {results['measured']} on {results['machine']}. "
             f"Steps marked `busy` started with a 1-minute load average above {BUSY_LOAD} (the machine is "
             "shared): their times are inflated by other work.", ""]
    lines += ["## Every step", "",
              "| boroughs | night | step | rows | wall s | Python CPU s | PostgreSQL CPU s | peak RSS MB: Python / "
              "child / PostgreSQL (private) | load before |", "|---:|---|---|---:|---:|---:|---:|---|---:|"]
    for r in runs:
        busy = " busy" if r["load_average_before"] > BUSY_LOAD else ""
        lines.append(f"| {r['boroughs']} | {r['night']} | {r['step']}{'' if r['ok'] else ' FAILED'} | "
                     f"{r.get('rows', 0):,} | {r['wall_seconds']} | {r['python_cpu_seconds']} | "
                     f"{r['postgres_cpu_seconds']} | {r['python_peak_rss_mb']} / {r['largest_child_peak_rss_mb']} / "
                     f"{r['postgres_peak_rss_mb']} ({r['postgres_peak_private_mb']}) | "
                     f"{r['load_average_before']}{busy} |")
    first_night = min(r["night"] for r in runs)
    def cpu(r: dict) -> float:
        return r["python_cpu_seconds"] + r["postgres_cpu_seconds"]

    lines += ["", "## Whole nights", "",
              "Wall and CPU (Python + PostgreSQL) seconds of the six steps; the next night's build against a full "
              "refresh of the same night.", "",
              "| boroughs | first night's rows | first night: wall / CPU s | next night (incremental): wall / CPU s | "
              "next night's build_marts: incremental / full refresh, wall and CPU s | busiest load average |",
              "|---:|---:|---:|---:|---|---:|"]
    for n in counts:
        mine = [r for r in runs if r["boroughs"] == n]
        first = [r for r in mine if r["night"] == first_night and "full-refresh" not in r["step"]]
        second = [r for r in mine if r["night"] != first_night and "full-refresh" not in r["step"]]
        incremental = next((r for r in second if r["step"] == "build_marts"), None)
        full = next((r for r in mine if r["step"] == "build_marts --full-refresh"), None)
        builds = (f"{incremental['wall_seconds']} / {full['wall_seconds']} wall, {cpu(incremental):.0f} / "
                  f"{cpu(full):.0f} CPU" if incremental and full else "")
        lines.append(f"| {n} | {first[0]['night_rows']:,} | {sum(r['wall_seconds'] for r in first):.0f} / "
                     f"{sum(cpu(r) for r in first):.0f} | {sum(r['wall_seconds'] for r in second):.0f} / "
                     f"{sum(cpu(r) for r in second):.0f} | {builds} | "
                     f"{max(r['load_average_before'] for r in mine)} |")
    base = min(counts)
    lines += ["", f"## Cost per row against {base} borough{'s' if base > 1 else ''} (first night)", "",
              "Wall and CPU (Python + PostgreSQL) microseconds per row of the first night (for the full refresh "
              "of the next night too: the same data, the next night's files being mostly deltas); the ratio to "
              "the smallest run is the target's measure (at most 1.5).", "",
              "| step | " + " | ".join(f"{n} boroughs: wall / CPU µs (ratio)" for n in counts) + " |",
              "|---|" + "---|" * len(counts)]
    for step in STEPS + ("build_marts --full-refresh",):
        cells, base_cost = [], None
        for n in counts:
            night = first_night if "full-refresh" not in step else None
            row = next((r for r in runs if r["boroughs"] == n and r["step"] == step
                        and (night is None or r["night"] == night)), None)
            first_rows = next((r["night_rows"] for r in runs if r["boroughs"] == n and r["night"] == first_night),
                              None)
            if row is None or not first_rows:
                cells.append("")
                continue
            wall = row["wall_seconds"] / first_rows * 1e6
            cpu = (row["python_cpu_seconds"] + row["postgres_cpu_seconds"]) / first_rows * 1e6
            base_cost = base_cost or (wall, cpu)
            cells.append(f"{wall:.1f} / {cpu:.1f} ({wall / base_cost[0]:.2f} / {cpu / base_cost[1]:.2f})")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines += ["", "## The ten slowest dbt nodes of each build", ""]
    for r in runs:
        if r["step"].startswith("build_marts") and r.get("slowest_dbt_nodes"):
            nodes = ", ".join(f"{n['node']} {n['seconds']}" for n in r["slowest_dbt_nodes"])
            lines.append(f"- {r['boroughs']} boroughs, {r['night']}, {r['step']}: {nodes}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.region", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boroughs", type=int, nargs="+", default=[1, 3, 11, 33])
    parser.add_argument("--night", default="2026-11-22", help="the first night; the next night is the day after")
    parser.add_argument("--data-dir", type=Path, default=Path("/work/scale-data"),
                        help="generated files, state folders and logs (outside the repository)")
    parser.add_argument("--port", type=int, default=56601, help="port of the benchmark's embedded PostgreSQL")
    parser.add_argument("--resume", action="store_true", help="keep the results of borough counts already measured")
    parser.add_argument("--keep-state", action="store_true", help="keep the last state folder (database) for a look")
    parser.add_argument("--run-step", choices=STEPS, help=argparse.SUPPRESS)  # the child process of one step
    parser.add_argument("--full-refresh", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_step:
        return run_step_here(args.run_step, args.night, args.full_refresh)

    first = date.fromisoformat(args.night)
    nights = [first, first + timedelta(days=1)]
    args.data_dir = args.data_dir.resolve()
    previous = json.loads(RESULTS_JSON.read_text()) if args.resume and RESULTS_JSON.exists() else {"runs": []}
    done = {r["boroughs"] for r in previous["runs"]} if args.resume else set()
    complete = {n for n in done if sum(r["boroughs"] == n for r in previous["runs"]) == 2 * len(STEPS) + 1}
    results = {
        "command": "python -m bench.region " + " ".join(argv if argv is not None else sys.argv[1:]),
        "measured": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "machine": f"{os.cpu_count()} CPUs, {os.uname().nodename}",
        "nights": [n.isoformat() for n in nights],
        "runs": [r for r in previous["runs"] if r["boroughs"] in complete],
    }

    def record(row: dict) -> None:
        results["runs"].append(row)
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=1) + "\n")
        RESULTS_MD.write_text(report(results))

    for boroughs in args.boroughs:
        if boroughs in complete:
            print(f"[{boroughs:>2} boroughs] already measured (--resume): skipped", flush=True)
            continue
        results["runs"] = [r for r in results["runs"] if r["boroughs"] != boroughs]
        started = time.monotonic()
        run_boroughs(args, boroughs, nights, record)
        print(f"[{boroughs:>2} boroughs] done in {time.monotonic() - started:.0f} s", flush=True)
    print(report(results))
    print(f"wrote {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
