"""The models changed for scale give the same rows as before, row by row, and how long each takes.

    SAFEGUARDING_STATE_DIR=/work/scale-data/spine-state SAFEGUARDING_PG_PORT=56602 \\
        .venv/bin/python -m bench.models_unchanged --scale borough

Models whose SQL was rewritten so their cost grows with their rows and no faster (docs/scale.md,
"What did not scale"): the person spine (its date-of-birth-and-episode match blocked),
int_missing__episodes_reconciled and mart_trackers_monthly. Their results must not change. This
check:

1. loads a generated night (--scale, --boroughs, --night) with the real loader, unless the state
   already holds it;
2. builds the models as they are now, with everything upstream of them (`dbt build --select
   +model ...`: the models, their data tests and unit tests);
3. compiles each model as it is now and as it was at --old-revision (default: main before the
   changes) with `dbt compile --inline` against the same warehouse, and creates each as a table in
   schema models_check, one after the other, timing each;
4. compares the two tables of each model on every column (pseudonymous keys included): rows in one
   and not in the other, both ways (EXCEPT ALL, so a row repeated in one only counts too).

Prints the row counts, seconds before and now, and any differing rows; for the spine also the
counts by source and match method; writes bench/results/models_unchanged-<scale>[-<N>].json; exits 1 if any row
differs.
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

BEFORE = "4186de3265bf462ccf71f0705db0e30b11a6058d"  # main on 3 December 2026, before the changes
MODELS = {  # model -> its file
    "int_people__spine": "dbt_project/models/intermediate/int_people__spine.sql",
    "int_missing__episodes_reconciled": "dbt_project/models/intermediate/int_missing__episodes_reconciled.sql",
    "mart_trackers_monthly": "dbt_project/models/marts/trackers/mart_trackers_monthly.sql",
}
# Models that now do part of a model's work: built (and timed) with it. The spine's match by date
# of birth and episode is a model of its own.
PART_OF = {"int_people__spine": "dbt_project/models/intermediate/int_people__police_matched_by_birth_and_episode.sql"}
RESULTS = ROOT / "bench" / "results"  # models_unchanged-<scale>[-<boroughs>].json


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


def compiled(settings, source: str, night: date) -> str:
    """A model's SQL compiled by dbt against this warehouse (refs, macros, vars)."""
    from warehouse.dbt import EXTRACT_DATE_ENV, dbt_executable
    from warehouse.settings import DBT_PROJECT_DIR

    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
           EXTRACT_DATE_ENV: night.isoformat()}
    result = subprocess.run([dbt_executable(), "compile", "--quiet", "--inline", source,
                             "--project-dir", str(DBT_PROJECT_DIR)], cwd=DBT_PROJECT_DIR, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt compile --inline failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def source_at(revision: str | None, path: str) -> str:
    if revision is None:
        return (ROOT / path).read_text()
    return subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.models_unchanged", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="borough")
    parser.add_argument("--boroughs", type=int, help="the first N boroughs of the scale (default: all)")
    parser.add_argument("--night", default="2026-11-22")
    parser.add_argument("--old-revision", default=BEFORE, help="the git revision to compare with")
    args = parser.parse_args()

    from synthetic.generate import generate_night
    from extract.load_night import load_night
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

    run_dbt(settings, ["build", "--select", *(f"+{m}" for m in MODELS), "--exclude", "resource_type:snapshot",
                       "--indirect-selection", "cautious"],
            extract_date=night.isoformat())

    results = {}
    conn = db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("drop schema if exists models_check cascade; create schema models_check")
            conn.commit()
            for model, path in MODELS.items():
                seconds = {}
                for name, revision in (("before", args.old_revision), ("now", None)):
                    sql = compiled(settings, source_at(revision, path), night)
                    part = compiled(settings, source_at(None, PART_OF[model]), night) \
                        if model in PART_OF and revision is None else None
                    started = time.monotonic()
                    if part:
                        cur.execute(f"create table models_check.{model}__part as {part}")
                    cur.execute(f"create table models_check.{model}__{name} as {sql}")
                    conn.commit()
                    seconds[name] = round(time.monotonic() - started, 1)
                now, before = f"models_check.{model}__now", f"models_check.{model}__before"
                differences = {}
                for name, left, right in (("only_now", now, before), ("only_before", before, now)):
                    cur.execute(f"select count(*) from (select * from {left} except all select * from {right}) d")
                    count = cur.fetchone()[0]
                    cur.execute(f"select * from {left} except all select * from {right} limit 10")
                    differences[name] = {"rows": count, "first": [[str(v) for v in r] for r in cur.fetchall()]}
                cur.execute(f"select (select count(*) from {now}), (select count(*) from {before})")
                rows_now, rows_before = cur.fetchone()
                results[model] = {"rows": {"now": rows_now, "before": rows_before}, "seconds": seconds,
                                  "identical": all(d["rows"] == 0 for d in differences.values()),
                                  "differences": differences}
                if model == "int_people__spine":
                    counts = {}
                    for name, table in (("now", now), ("before", before)):
                        cur.execute(f"select source_system || ' ' || coalesce(match_method, 'unmatched: ' || "
                                    f"unmatched_reason), count(*) from {table} group by 1 order by 1")
                        counts[name] = dict(cur.fetchall())
                    results[model]["by_match_method"] = counts
                print(f"{model}: {rows_now:,} rows now, {rows_before:,} before; {seconds['before']} s before, "
                      f"{seconds['now']} s now; " + ("identical" if results[model]["identical"] else
                                                      f"DIFFERENT: {differences}"), flush=True)
            cur.execute("drop schema models_check cascade")
        conn.commit()
    finally:
        conn.close()

    same = all(r["identical"] for r in results.values())
    out = RESULTS / f"models_unchanged-{args.scale}{'-' + str(args.boroughs) if args.boroughs else ''}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "measured": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "command": "python -m bench.models_unchanged " + " ".join(sys.argv[1:]),
        "night": night.isoformat(), "scale": args.scale, "boroughs": args.boroughs,
        "old_revision": args.old_revision, "load_average": round(os.getloadavg()[0], 2), "identical": same,
        "models": results}, indent=1) + "\n")
    print(("IDENTICAL" if same else "DIFFERENT") + f": every model now and at {args.old_revision[:10]}; "
          f"wrote {out.relative_to(ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
