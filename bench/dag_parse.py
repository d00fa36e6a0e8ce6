"""DAG parse time: how long the scheduler's dag-processor spends on each DAG file.

    python bench/dag_parse.py [--repeat 10] [--modes single cosmos]

For each DAG file and each dbt task mode (SAFEGUARDING_DBT_TASKS), loads the file
into a fresh DagBag --repeat times in one process (the first load pays for
importing Airflow's own modules, so it is reported apart) and prints the median
and worst time. Cosmos mode needs dbt's manifest (`safeguarding dbt parse`).
Results: printed, and written to bench/results/dag_parse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"

MEASURE = """
import json, sys, time
from airflow.models import DagBag
path, repeat = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(repeat + 1):
    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    times.append(time.perf_counter() - started)
    assert not bag.import_errors, bag.import_errors
print(json.dumps({"first": times[0], "times": times[1:], "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""


def measure(dag_file: Path, mode: str, repeat: int) -> dict:
    env = dict(os.environ) | {
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="dag-parse-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SAFEGUARDING_DBT_TASKS": mode,
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run([sys.executable, "-c", MEASURE, str(dag_file), str(repeat)], env=env,
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {"file": dag_file.name, "mode": mode, "tasks": data["tasks"], "first_s": round(data["first"], 3),
            "median_s": round(statistics.median(data["times"]), 3), "max_s": round(max(data["times"]), 3),
            "repeat": repeat}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--modes", nargs="+", default=["single", "cosmos"])
    args = parser.parse_args()
    results = []
    for dag_file in sorted(DAGS.glob("*.py")):
        for mode in args.modes:
            from warehouse.dbt import dbt_target_dir

            if mode == "cosmos" and not (dbt_target_dir() / "manifest.json").exists():
                print("skipping cosmos: no dbt manifest (run `safeguarding dbt parse`)", file=sys.stderr)
                continue
            results.append(measure(dag_file, mode, args.repeat))
    print(f"{'DAG file':40} {'mode':7} {'tasks':>5} {'first s':>8} {'median s':>9} {'max s':>6}")
    for r in results:
        print(f"{r['file']:40} {r['mode']:7} {r['tasks']:>5} {r['first_s']:>8} {r['median_s']:>9} {r['max_s']:>6}")
    out = ROOT / "bench" / "results" / "dag_parse.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "python": sys.version.split()[0], "results": results}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
