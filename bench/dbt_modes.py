"""How long the nightly run takes with dbt as one task vs one cosmos task per model.

    SAFEGUARDING_STATE_DIR=/tmp/bench/state SAFEGUARDING_PG_PORT=55620 \
        python bench/dbt_modes.py --scales tiny borough --modes single cosmos

For each scale and mode: `safeguarding run` (generate a night, `airflow dags test`),
then from Airflow's metadata the wall time of the run and the time spent in the dbt
tasks (build_marts, or the cosmos build_marts.* tasks plus install_pseudonymisation_key).
Prints a table and writes bench/results/dbt_modes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def dbt_seconds(airflow_db: Path) -> tuple[float, int, float]:
    """(seconds in dbt tasks, number of dbt tasks, run wall seconds) of the latest nightly run."""
    with sqlite3.connect(airflow_db) as conn:
        # The span of the tasks (from the first start to the last end), as measured before the CLI
        # recorded true run times (#16): `airflow dags test` alone records the logical date as the start.
        [(run_id, start, end)] = conn.execute(
            "select r.run_id, min(t.start_date), max(t.end_date) from dag_run r join task_instance t "
            "on t.run_id = r.run_id and t.dag_id = r.dag_id where r.dag_id = 'safeguarding_nightly' "
            "group by r.id order by r.id desc limit 1").fetchall()
        rows = conn.execute(
            "select task_id, start_date, end_date from task_instance where run_id = ? and dag_id = 'safeguarding_nightly' "
            "and (task_id like 'build_marts%' or task_id = 'install_pseudonymisation_key')", (run_id,)).fetchall()
    parse = datetime.fromisoformat
    spent = sum((parse(e) - parse(s)).total_seconds() for _, s, e in rows if s and e)
    return spent, len(rows), (parse(end) - parse(start)).total_seconds() if start and end else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["tiny", "borough"])
    parser.add_argument("--modes", nargs="+", default=["single", "cosmos"])
    parser.add_argument("--extract-date", default="2026-11-15")
    args = parser.parse_args()

    from warehouse.settings import load

    settings = load()
    results = []
    for scale in args.scales:
        for mode in args.modes:
            env = dict(os.environ, SAFEGUARDING_DBT_TASKS=mode)
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "safeguarding", "run", "--scale", scale,
                                   "--extract-date", args.extract_date], env=env, capture_output=True, text=True)
            total = time.monotonic() - started
            spent, tasks, run_wall = dbt_seconds(settings.airflow_home / "airflow.db")
            row = {"scale": scale, "mode": mode, "ok": done.returncode == 0, "command_seconds": round(total, 1),
                   "dag_run_seconds": round(run_wall, 1), "dbt_task_seconds": round(spent, 1), "dbt_tasks": tasks}
            results.append(row)
            print(json.dumps(row), flush=True)
            if done.returncode:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    out = ROOT / "bench" / "results" / "dbt_modes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured": date.today().isoformat(), "results": results}, indent=2))
    print(f"{'scale':8} {'mode':7} {'ok':3} {'command s':>10} {'run s':>7} {'dbt s':>7} {'dbt tasks':>9}")
    for r in results:
        print(f"{r['scale']:8} {r['mode']:7} {'yes' if r['ok'] else 'NO':3} {r['command_seconds']:>10} "
              f"{r['dag_run_seconds']:>7} {r['dbt_task_seconds']:>7} {r['dbt_tasks']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
