"""The person spine gives the same rows as before its matching was blocked, row by row.

    SAFEGUARDING_STATE_DIR=/work/scale-data/spine-state SAFEGUARDING_PG_PORT=56602 \\
        .venv/bin/python -m bench.spine_unchanged --scale borough

int_people__spine's date-of-birth-and-episode match was rewritten so its cost grows with the
notifications instead of with the square of the region (docs/scale.md, "The person spine"). Its
results must not change. This check:

1. loads a generated night (--scale, --boroughs, --night) with the real loader, unless the state
   already holds it;
2. builds the spine as it is now, with everything upstream of it (`dbt build --select
   +int_people__spine`: the models, their data tests and unit tests);
3. compiles the spine as it was at --old-revision (default: main before the change) with
   `dbt compile --inline` against the same warehouse, and creates it as the table
   spine_check.int_people__spine_before;
4. compares the two tables on every column (the pseudonymous person_key included): rows in one and
   not in the other, both ways (EXCEPT ALL, so a row repeated in one only counts too).

Prints both row counts, the counts by source and match method, how long each took, and any
differing rows; writes bench/results/spine_unchanged.json; exits 1 if any row differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE = "4186de3265bf462ccf71f0705db0e30b11a6058d"  # main on 3 December 2026, before the blocking
MODEL_PATH = "dbt_project/models/intermediate/int_people__spine.sql"
RESULTS = ROOT / "bench" / "results" / "spine_unchanged.json"
COLUMNS = ("source_system, source_person_reference, person_id, is_matched, match_method, unmatched_reason, "
           "date_of_birth_disagrees, source_record_count, person_key")


def night_loaded(settings, night: date) -> bool:
    from warehouse import db

    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('raw.load_manifest') is not null")
            if not cur.fetchone()[0]:
                return False
            cur.execute("select count(distinct feed) from raw.load_manifest where extract_date = %s "
                        "and status = 'loaded'", (night,))
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def compiled_before(settings, revision: str, night: date) -> str:
    """The spine's SQL at `revision`, compiled by dbt against this warehouse (refs, macros, vars)."""
    from warehouse.dbt import EXTRACT_DATE_ENV, dbt_executable
    from warehouse.settings import DBT_PROJECT_DIR

    source = subprocess.run(["git", "show", f"{revision}:{MODEL_PATH}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
           EXTRACT_DATE_ENV: night.isoformat()}
    result = subprocess.run([dbt_executable(), "compile", "--quiet", "--inline", source,
                             "--project-dir", str(DBT_PROJECT_DIR)], cwd=DBT_PROJECT_DIR, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt compile --inline of the spine at {revision} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spine_unchanged", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="borough")
    parser.add_argument("--boroughs", type=int, help="the first N boroughs of the scale (default: all)")
    parser.add_argument("--night", default="2026-11-22")
    parser.add_argument("--old-revision", default=BEFORE, help="the git revision of the spine to compare with")
    args = parser.parse_args()

    from extract.generate import generate_night
    from extract.nightly import load_night
    from warehouse import db, embedded_postgres, pseudonymisation
    from warehouse.dbt import run_dbt
    from warehouse.settings import load

    settings = load()
    night = date.fromisoformat(args.night)
    if settings.embedded:
        embedded_postgres.start(settings, quiet=True)
    if not night_loaded(settings, night):
        print(f"generating and loading {night} ({args.scale}, boroughs {args.boroughs or 'all'}) ...", flush=True)
        generate_night(settings.landing_dir, night, scale=args.scale, boroughs=args.boroughs)
        load_night(settings, night)
    conn = db.connect(settings)
    try:
        pseudonymisation.install_key(conn, settings)
    finally:
        conn.close()

    started = time.monotonic()
    run_dbt(settings, ["build", "--select", "+int_people__spine", "--exclude", "resource_type:snapshot"],
            extract_date=night.isoformat())
    now_seconds = time.monotonic() - started  # the spine's parents and tests included
    before_sql = compiled_before(settings, args.old_revision, night)

    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("create schema if not exists spine_check")
            cur.execute("drop table if exists spine_check.int_people__spine_before")
            started = time.monotonic()
            cur.execute(f"create table spine_check.int_people__spine_before as {before_sql}")
            before_seconds = time.monotonic() - started
            conn.commit()
            counts = {}
            for name, table in (("now", "intermediate.int_people__spine"),
                                ("before", "spine_check.int_people__spine_before")):
                cur.execute(f"select source_system, coalesce(match_method, 'unmatched: ' || unmatched_reason), "
                            f"count(*) from {table} group by 1, 2 order by 1, 2")
                counts[name] = {f"{s} {m}": n for s, m, n in cur.fetchall()}
            differences = {}
            for name, left, right in (("only_now", "intermediate.int_people__spine",
                                       "spine_check.int_people__spine_before"),
                                      ("only_before", "spine_check.int_people__spine_before",
                                       "intermediate.int_people__spine")):
                cur.execute(f"select {COLUMNS} from {left} except all select {COLUMNS} from {right} "
                            "order by 1, 2 limit 20")
                rows = cur.fetchall()
                cur.execute(f"select count(*) from (select {COLUMNS} from {left} except all "
                            f"select {COLUMNS} from {right}) d")
                differences[name] = {"rows": cur.fetchone()[0], "first": [[str(v) for v in r] for r in rows]}
            cur.execute("drop schema spine_check cascade")
        conn.commit()
    finally:
        conn.close()

    same = all(d["rows"] == 0 for d in differences.values())
    result = {
        "measured": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "command": "python -m bench.spine_unchanged " + " ".join(sys.argv[1:]),
        "night": night.isoformat(), "scale": args.scale, "boroughs": args.boroughs,
        "old_revision": args.old_revision, "identical": same,
        "rows": {name: sum(c.values()) for name, c in counts.items()}, "by_match_method": counts,
        "differences": differences,
        "seconds": {"now: dbt build +int_people__spine (parents, tests)": round(now_seconds, 1),
                    "before: the spine alone": round(before_seconds, 1)},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "differences"}, indent=1))
    for name, d in differences.items():
        print(f"{name}: {d['rows']} row(s)" + "".join(f"\n  {r}" for r in d["first"]))
    print(("IDENTICAL: " if same else "DIFFERENT: ") + f"the spine now and at {args.old_revision[:10]}, "
          f"{result['rows']['now']:,} rows; wrote {RESULTS.relative_to(ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
