"""Do loads of different boroughs' files run in parallel on one PostgreSQL?

    .venv/bin/python -m bench.parallel_loads                 # two boroughs, and one night's feeds in two halves

Two measurements, each on empty databases of ONE embedded PostgreSQL server, with the real loader
(extract.load.load_file: COPY, row checks, ANALYZE, publication of the batch):

1. Two boroughs' nights (the generator's `region` scale, one borough each, with two seeds: two
   different councils), each into a database of its own, as separate raw zones per council would
   be (docs/scale.md, "When one PostgreSQL is not enough"): (a) one after the other, in one
   process; (b) at once, one process per borough, as Celery workers would run one load task per
   council.
2. One two-borough night into one database, the way the nightly DAG loads today: (a) every feed's
   file in one process; (b) the feeds dealt into two processes at once by file size (what
   per-feed load tasks on two workers would do).

It records the wall time of each, the rows, PostgreSQL's CPU time, and the speed-up (a) / (b): on
2 cores, up to 2 when the loads really run side by side and nothing (a lock, one busy process)
serialises them. The 1-minute load average before each run is recorded (the machine is shared).
Results: bench/results/parallel_loads.json.
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
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dbt_incremental import postgres_cpu_seconds  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "parallel_loads.json"


def generated(data_dir: Path, name: str, night: date, boroughs: int, seed: int) -> Path:
    """A night's files, generated once (aside: not timed)."""
    from bench.region import generated_once

    return generated_once(data_dir / name, [night], f"[{name}]", scale="region", boroughs=boroughs, seed=seed)


def load_here(landing: str, dbname: str, night: str, feed_ids: list[str]) -> int:
    """The child process: load the given feeds' files of a night into a database."""
    from extract.feeds import FEEDS_BY_ID
    from extract.load import load_file
    from extract.load_night import expected_file
    from warehouse import db
    from warehouse.settings import load

    settings = load()
    settings = dataclasses.replace(settings, connection=dataclasses.replace(settings.connection, dbname=dbname))
    conn = db.connect(settings)
    rows = 0
    try:
        for feed_id in feed_ids:
            feed = FEEDS_BY_ID[feed_id]
            rows += load_file(conn, feed, expected_file(Path(landing), feed, date.fromisoformat(night)),
                              date.fromisoformat(night)).rows
    finally:
        conn.close()
    print(json.dumps({"rows": rows}), flush=True)
    return 0


def deal_by_size(landing: Path, night: date, hands: int) -> list[list[str]]:
    """The feeds dealt into `hands` lists of about equal bytes (largest file first)."""
    from extract.feeds import FEEDS
    from extract.load_night import expected_file

    sizes = sorted(((expected_file(landing, f, night).stat().st_size, f.id) for f in FEEDS), reverse=True)
    dealt: list[tuple[int, list[str]]] = [(0, []) for _ in range(hands)]
    for size, feed_id in sizes:
        total, ids = min(dealt, key=lambda d: d[0])
        dealt.remove((total, ids))
        dealt.append((total + size, ids + [feed_id]))
    return [ids for _, ids in dealt]


def fresh_databases(settings, names: list[str]) -> None:
    from warehouse import db

    admin = db.connect(settings, autocommit=True)
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f"drop database if exists {name} with (force)")
                cur.execute(f"create database {name}")
    finally:
        admin.close()


def run(settings, env: dict, loads: list[tuple[Path, str, list[str]]], night: date, at_once: bool) -> dict:
    """Load each (landing, database, feeds): in one process one after the other, or in a process each at once."""
    fresh_databases(settings, sorted({dbname for _, dbname, _ in loads}))
    load_before = os.getloadavg()[0]
    pg_before = postgres_cpu_seconds(settings)
    commands = [[sys.executable, "-m", "bench.parallel_loads", "--load-here", str(landing), dbname, night.isoformat(),
                 *feeds] for landing, dbname, feeds in loads]
    started = time.monotonic()
    if at_once:
        processes = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for c in commands]
        outputs = [p.communicate()[0] for p in processes]
        failed = any(p.returncode for p in processes)
    else:
        finished = [subprocess.run(c, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for c in commands]
        outputs = [f.stdout for f in finished]
        failed = any(f.returncode for f in finished)
    wall = time.monotonic() - started
    if failed:
        raise SystemExit("a load failed: see its output above")
    return {"at_once": at_once, "processes": len(loads) if at_once else 1, "wall_seconds": round(wall, 1),
            "rows": sum(json.loads(o.strip().splitlines()[-1])["rows"] for o in outputs),
            "postgres_cpu_seconds": round(postgres_cpu_seconds(settings) - pg_before, 1),
            "load_average_before": round(load_before, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parallel_loads", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--night", default="2026-11-22")
    parser.add_argument("--data-dir", type=Path, default=Path("/work/scale-data"))
    parser.add_argument("--port", type=int, default=56603)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--load-here", nargs="+", help=argparse.SUPPRESS)  # landing, database, night, feeds
    args = parser.parse_args(argv)
    if args.load_here:
        landing, dbname, night, *feed_ids = args.load_here
        return load_here(landing, dbname, night, feed_ids)

    from extract.feeds import FEEDS
    from warehouse import embedded_postgres
    from warehouse.settings import load

    night = date.fromisoformat(args.night)
    data_dir = args.data_dir.resolve()
    every_feed = [f.id for f in FEEDS]
    two_councils = [(generated(data_dir, f"council-{n}", night, 1, 20261123 + n), f"council_{n}", every_feed)
                    for n in (1, 2)]
    region = generated(data_dir, "region-2", night, 2, 20261123)
    halves = [(region, "two_boroughs", hand) for hand in deal_by_size(region, night, 2)]
    experiments = {"two boroughs, a database each": two_councils,
                   "one two-borough night, the feeds in two halves": halves}
    state = data_dir / "state-parallel-loads"
    env = {**os.environ, "SAFEGUARDING_STATE_DIR": str(state), "SAFEGUARDING_PG_PORT": str(args.port),
           "PYTHONPATH": str(ROOT)}
    shutil.rmtree(state, ignore_errors=True)
    settings = load(env)  # after the old state is gone: settings make the state's secrets (the password)
    embedded_postgres.start(settings, quiet=True)
    results = {}
    try:
        for name, loads in experiments.items():
            runs = []
            for _ in range(args.repeat):
                for at_once in (False, True):
                    row = run(settings, env, loads, night, at_once)
                    runs.append(row)
                    print(name + ": " + json.dumps(row), flush=True)
            one = min(r["wall_seconds"] for r in runs if not r["at_once"])
            both = min(r["wall_seconds"] for r in runs if r["at_once"])
            results[name] = {"one_after_the_other_seconds": one, "at_once_seconds": both,
                             "speed_up": round(one / both, 2), "runs": runs}
            print(f"{name}: one after the other {one} s, at once {both} s: speed-up {one / both:.2f}", flush=True)
    finally:
        embedded_postgres.stop(settings)
        shutil.rmtree(state, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "measured": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "command": "python -m bench.parallel_loads " + " ".join(argv if argv is not None else sys.argv[1:]),
        "cpus": os.cpu_count(), "night": night.isoformat(), "experiments": results}, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
