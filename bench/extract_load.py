"""Benchmark: the extract layer against a plain psql COPY and pandas.DataFrame.to_sql, on one generated file.

    python -m bench.extract_load                  # about 2 M rows (~150 MB), a couple of minutes here
    python -m bench.extract_load --gigabytes 1    # the 1 GB run quoted in docs/feeds.md

What it does, in one run:

1. Starts its own embedded PostgreSQL (a temporary state folder, a free port), so it
   never touches a developer's warehouse; stops it at the end. ``--url`` uses an
   existing server instead (the tables it creates are dropped first).
2. Writes one file of the ``crs__visits`` feed (dates, date-times, codes, a flag, a
   key): rows from the generator, repeated with fresh keys up to the size asked for.
3. Loads that same file three ways, timing each:
   * the extract layer: ``extract.load.load_file`` (checksum and encoding pass, COPY,
     row checks in SQL, quarantine, publish), in a child process of its own, which
     reports its peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss``: the whole
     process, Python and psycopg2 included);
   * a plain ``\\copy`` of the file through ``psql`` into a logged table of text columns (the
     loader also COPYs into text columns of a logged table, and adds a row number; neither is
     unlogged), with no checks: the fair floor for "load this file into PostgreSQL";
   * ``pandas.DataFrame.to_sql`` (SQLAlchemy + psycopg2, default method) on the first
     ``--to-sql-rows`` rows, extrapolated as rows per second (loading a 1 GB file that way
     would take hours). The time counts ``to_sql`` only, not reading the CSV.
4. Prints a table and writes ``bench/results/extract_load.json`` (one entry per file
   size, the latest run of each kept); the figures kept are in bench/results/extract_load.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "extract_load.json"
FEED_ID = "crs__visits"
NIGHT = date(2026, 11, 22)
TARGET_VS_COPY = 0.5
TARGET_VS_TO_SQL = 10.0
TARGET_PEAK_MB = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path: Path, rows: int | None, gigabytes: float | None, workdir: Path) -> tuple[int, int]:
    """One CSV of the visits feed, `rows` long or `gigabytes` big. Returns (rows, bytes)."""
    from extract.feeds import FEEDS_BY_ID
    from synthetic.generate import generate_night

    feed = FEEDS_BY_ID[FEED_ID]
    night = generate_night(workdir / "templates", NIGHT, scale="tiny", feeds=[feed])
    with night.files[feed.id].open(newline="") as fh:
        templates = list(csv.reader(fh))[1:]
    key = feed.column_names.index("visit_id")
    target_bytes = int(gigabytes * 1e9) if gigabytes else None
    written = size = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(",".join(feed.column_names) + "\n")
        batch: list[str] = []
        while True:
            for row in templates:
                fields = list(row)
                fields[key] = f"{row[key]}-{written}"
                batch.append(",".join(fields))
                written += 1
                if rows and written >= rows:
                    break
            chunk = "\n".join(batch) + "\n"
            out.write(chunk)
            size += len(chunk)
            batch = []
            if (rows and written >= rows) or (target_bytes and size >= target_bytes):
                break
    return written, path.stat().st_size


def child_load(url: str, path: str) -> None:
    """Run in a child process: the extract layer alone, so its peak memory is its own."""
    import psycopg2

    from extract.feeds import FEEDS_BY_ID
    from extract.load import load_file

    conn = psycopg2.connect(url)
    started = time.perf_counter()
    result = load_file(conn, FEEDS_BY_ID[FEED_ID], Path(path), NIGHT)
    seconds = time.perf_counter() - started
    conn.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps({"seconds": seconds, "rows": result.rows, "quarantined": result.rows_quarantined,
                      "status": result.status, "peak_rss_mb": peak_mb,
                      "steps": result.seconds}))


def _reset(url: str) -> None:
    """A level start for each method: no tables from the last one, no dirty pages waiting to be written."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(f"drop table if exists raw.{FEED_ID} cascade")
        cur.execute("drop table if exists public.bench_plain_copy, public.bench_to_sql")
        cur.execute("select to_regclass('raw.load_manifest') is not null")
        if cur.fetchone()[0]:
            cur.execute("delete from raw.quarantine where feed = %s", (FEED_ID,))
            cur.execute("delete from raw.load_manifest where feed = %s", (FEED_ID,))
        cur.execute("checkpoint")
    conn.close()
    os.sync()


def measure_extract_layer(url: str, path: Path) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.extract_load", "--child-load", url, str(path)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    child = json.loads(out.stdout.strip().splitlines()[-1])
    return {"name": "extract layer (load_file)", "seconds": child["seconds"], "rows": child["rows"],
            "wall_seconds_with_start_up": wall, "peak_rss_mb": child["peak_rss_mb"],
            "quarantined": child["quarantined"], "steps": child["steps"]}


def measure_plain_copy(url: str, path: Path, columns: tuple[str, ...]) -> dict:
    from warehouse.embedded_postgres import _bin

    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("create table public.bench_plain_copy ({})".format(", ".join(f"{c} text" for c in columns)))
    conn.close()
    started = time.perf_counter()
    out = subprocess.run([_bin("psql"), url, "-v", "ON_ERROR_STOP=1", "-c",
                          f"\\copy public.bench_plain_copy from '{path}' with (format csv, header true)"],
                         capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    rows = int(out.stdout.strip().split()[-1])
    # The baseline the loader is held to: the same file into a logged table of text columns (what
    # the loader COPYs into too), with nothing else: no row number, no lineage, no checks, no FREEZE.
    return {"name": "plain COPY through psql (\\copy)", "seconds": seconds, "rows": rows,
            "note": "into a logged table of text columns, nothing else"}


def measure_to_sql(url: str, path: Path, rows: int) -> dict:
    import pandas as pd
    from sqlalchemy import create_engine

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=rows)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    started = time.perf_counter()
    frame.to_sql("bench_to_sql", engine, schema="public", if_exists="replace", index=False, chunksize=10_000)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"name": "pandas.DataFrame.to_sql", "seconds": seconds, "rows": len(frame),
            "note": f"on the first {len(frame):,} rows, extrapolated"}


def print_table(run: dict) -> None:
    print(f"\n{run['rows']:,} rows, {run['file_bytes'] / 1e6:,.0f} MB ({run['feed']})\n")
    print(f"{'method':48} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak RSS':>10}")
    for m in run["methods"]:
        rss = f"{m['peak_rss_mb']:.0f} MB" if m.get("peak_rss_mb") else ""
        print(f"{m['name']:48} {m['rows']:>12,} {m['seconds']:>9.1f} {m['rows_per_second']:>12,.0f} {rss:>10}")
    steps = run["methods"][0].get("steps", {})
    print("\nextract layer steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    print()
    for k, v in run["ratios"].items():
        print(f"  {k}: {v}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extract_load", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, help="rows in the file (default 2,000,000)")
    size.add_argument("--gigabytes", type=float, help="size of the file instead of --rows, e.g. 1")
    parser.add_argument("--to-sql-rows", type=int, default=100_000, help="rows pandas.to_sql loads (default 100,000)")
    parser.add_argument("--url", help="an existing PostgreSQL (default: a temporary embedded one)")
    parser.add_argument("--workdir", type=Path, help="where the file is written (default: a temporary folder)")
    parser.add_argument("--child-load", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        child_load(*args.child_load)
        return 0
    if not args.rows and not args.gigabytes:
        args.rows = 2_000_000

    from extract.feeds import FEEDS_BY_ID

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-extract-"))
    workdir.mkdir(parents=True, exist_ok=True)
    settings = None
    try:
        url = args.url
        if not url:
            from warehouse import embedded_postgres
            from warehouse.settings import load

            os.environ.pop("SAFEGUARDING_WAREHOUSE_URL", None)
            os.environ.update({"SAFEGUARDING_STATE_DIR": str(workdir / "state"),
                               "SAFEGUARDING_PG_PORT": str(_free_port()),
                               "SAFEGUARDING_PSEUDONYMISATION_KEY": "bench-key-not-a-secret-0000"})
            settings = load()
            print(f"Starting a temporary PostgreSQL on port {settings.connection.port} ...")
            embedded_postgres.start(settings, quiet=True)
            url = settings.connection.url
        path = workdir / "visits.csv"
        started = time.perf_counter()
        rows, file_bytes = write_file(path, args.rows, args.gigabytes, workdir)
        print(f"Wrote {rows:,} rows, {file_bytes / 1e6:,.0f} MB in {time.perf_counter() - started:.0f} s: {path}")

        # Warm-up, untimed: a fresh server creates (and zero-fills) its WAL files during its first
        # large write, which would slow down whichever method runs first. One plain COPY first
        # leaves recycled WAL files for every method alike.
        print("Warm-up: one untimed plain COPY ...")
        measure_plain_copy(url, path, FEEDS_BY_ID[FEED_ID].column_names)
        _reset(url)
        load_before = os.getloadavg()[0]
        print("Loading with the extract layer ...")
        extract = measure_extract_layer(url, path)
        _reset(url)
        print("Loading with plain COPY through psql ...")
        plain = measure_plain_copy(url, path, FEEDS_BY_ID[FEED_ID].column_names)
        _reset(url)
        print(f"Loading {min(rows, args.to_sql_rows):,} rows with pandas.to_sql ...")
        to_sql = measure_to_sql(url, path, args.to_sql_rows)
        _reset(url)

        methods = [extract, plain, to_sql]
        for m in methods:
            m["rows_per_second"] = m["rows"] / m["seconds"]
        vs_copy = extract["rows_per_second"] / plain["rows_per_second"]
        vs_to_sql = extract["rows_per_second"] / to_sql["rows_per_second"]
        peak = extract.get("peak_rss_mb")
        run = {
            "feed": FEED_ID, "rows": rows, "file_bytes": file_bytes,
            "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
            # Other work on the machine skews every figure: the 1-minute load average before and after.
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "methods": methods,
            "ratios": {
                "extract layer / plain COPY": f"{vs_copy:.2f} (target >= {TARGET_VS_COPY}: "
                                              f"{'met' if vs_copy >= TARGET_VS_COPY else 'NOT met'})",
                "extract layer / to_sql": f"{vs_to_sql:.2f}x (target >= {TARGET_VS_TO_SQL:g}x: "
                                          f"{'met' if vs_to_sql >= TARGET_VS_TO_SQL else 'NOT met'})",
                "extract layer peak memory": f"{peak:.0f} MB (target < {TARGET_PEAK_MB} MB"
                                             f"{' on a 1 GB file' if file_bytes >= 0.9e9 else ''}: "
                                             f"{'met' if peak and peak < TARGET_PEAK_MB else 'NOT met'})"
                if peak else "not measured",
            },
        }
        print_table(run)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(RESULTS.read_text()).get("runs", []) if RESULTS.exists() else []
        label = "1 GB" if file_bytes >= 0.9e9 else "default"
        run["label"] = label
        runs = [r for r in previous if r.get("label") != label] + [run]
        runs.sort(key=lambda r: r["file_bytes"])
        RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
        print(f"\nWrote {RESULTS}")
    finally:
        if settings is not None:
            from warehouse import embedded_postgres

            embedded_postgres.stop(settings)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
