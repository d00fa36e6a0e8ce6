"""How long the nightly dbt build takes as a full refresh, and the next night incrementally.

    SAFEGUARDING_STATE_DIR=/tmp/bench/state SAFEGUARDING_PG_PORT=56101 \
        python bench/dbt_incremental.py --scale borough --night 2026-11-22 --repeat 3

Generates and loads (with the real loader) two consecutive nights at the scale, then times
pairs of builds with the nightly build command (pipeline.nightly.NIGHTLY_DBT_BUILD: `dbt build`
without unit tests), each into a freshly dropped `marts_build` as on a real night (publish
renames it away):

  (a) a full refresh of the first night       (`dbt build --full-refresh`: every memo row computed)
  (b) the next night, incremental             (`dbt build`: the memos reuse the first night's results)

--repeat times, then once more with the command before this change (`dbt build --vars
'{"extract_date": ...}'`: unit tests included, and a full parse of the project, since the var
differs from the previous build's), to report those savings apart from the incremental gain.
Snapshots are left out of every build (NO_SNAPSHOTS says why).
Last, --repeat times:

  (c) the floor                               (`dbt build --empty`: the same nodes over zero rows)

which no incremental strategy could beat: what is left when no model has a row to compute.
It empties the memos and the staging tables, so the next run of the bench starts from (a).

For each build: wall time of the dbt command, dbt's own elapsed time, the node time by kind and
the memo models' time (run_results.json), the CPU time of the dbt process and of the embedded
PostgreSQL (which of the two bounds the build: dbt's Python runs on one core, whatever its
threads), the longest chain of dependent nodes (the least time the build could take on unlimited
cores: far below the elapsed time, the build is bounded by the CPU all its nodes need), and the
1-minute load average before and after (os.getloadavg; each build first waits up to 90 s for it
to fall below 1.0: another CPU-heavy job on the machine makes the figures worthless, and the
script says so). Prints each build, the
minimum and median per kind of build, how many of the second night's rows differ from the
first's, feed by feed, and writes bench/results/dbt_incremental.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMOS = ("int_front_door__assessment_timeliness", "int_child_protection__icpc_timeliness")
FLOOR = "floor: no rows (dbt build --empty)"
# In every build: a snapshot is neither incremental nor refreshed (dbt never rebuilds one), and
# snapshots refuse (a), an older night after (b), and (c), a build over no rows
# (macros/snapshots.sql). So every build has the same nodes: the models and their data tests.
NO_SNAPSHOTS = ["--exclude", "resource_type:snapshot"]
BUSY_LOAD = 1.0  # 1-minute load average above which the machine was not quiet before a build


def load_nights(settings, nights: list[date], scale: str) -> None:
    from synthetic.generate import generate_night
    from extract.load_night import load_night
    from warehouse import db
    from warehouse.pseudonymisation import install_key

    for night in nights:  # in date order: an incremental feed's delta is what changed since the previous night
        started = time.monotonic()
        generate_night(settings.landing_dir, night, scale=scale)
        load_night(settings, night)  # a night already loaded with the same files is skipped ("duplicate")
        print(f"generated and loaded {night} ({scale}) in {time.monotonic() - started:.0f} s", flush=True)
    conn = db.connect(settings)
    try:
        install_key(conn, settings)
    finally:
        conn.close()


def drop_build_schema(settings) -> None:
    from warehouse import db

    conn = db.connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("drop schema if exists marts_build cascade")
    finally:
        conn.close()


def wait_for_quiet(max_seconds: float = 90) -> float:
    """Wait (at most max_seconds) for the 1-minute load average to fall below BUSY_LOAD, so one
    build's own load does not count against the next; returns the load average then."""
    deadline = time.monotonic() + max_seconds
    while os.getloadavg()[0] >= BUSY_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the dbt processes we have waited for
    return usage.ru_utime + usage.ru_stime


def postgres_cpu_seconds(settings) -> float | None:
    """CPU seconds used so far by the embedded PostgreSQL: the postmaster, its live processes and
    the backends it has reaped (cutime/cstime in /proc). None for a server we did not start."""
    pid_file = settings.pgdata_dir / "postmaster.pid"
    if not settings.embedded or not pid_file.exists():
        return None
    postmaster = int(pid_file.read_text().split()[0])
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        pid = int(stat.parent.name)
        if pid == postmaster:  # utime, stime, cutime, cstime (proc(5) fields 14 to 17)
            ticks += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == postmaster:  # a live backend or worker: utime, stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def changed_rows(settings, first: date, second: date) -> dict[str, dict]:
    """For each feed file of the second night: its rows, how many of them are not in the first
    night's file exactly (new or changed rows; for an incremental feed, the whole delta), and how
    many of the first night's rows it no longer has (changed or deleted; not counted for an
    incremental feed, whose file holds only the delta). Shows how little of the data a night
    changes, against how much of the build it touches."""
    from extract.feeds import FEEDS

    incremental = {f"{feed.source}/{feed.file_name}" for feed in FEEDS if not feed.snapshot}
    changes = {}
    for new in sorted(settings.landing_dir.glob(f"*/{second.isoformat()}/*.csv")):
        name = f"{new.parent.parent.name}/{new.name}"
        old = new.parent.parent / first.isoformat() / new.name
        old_rows = set(old.read_text().splitlines()[1:]) if old.exists() else set()
        new_rows = new.read_text().splitlines()[1:]
        changes[name] = {"rows": len(new_rows),
                         "rows_not_in_previous_night": sum(row not in old_rows for row in new_rows),
                         "previous_rows_gone": 0 if name in incremental else len(old_rows - set(new_rows))}
    return changes


def critical_path_seconds(manifest: dict, results: dict) -> float:
    """The longest chain of dependent nodes, by node time, as `dbt build` orders them (a node waits
    for its parents and for their data tests): the least time the build could take on unlimited
    cores. Far below the elapsed time, the build is bounded by the CPU all its nodes need, not by
    any one chain of models."""
    seconds = {r["unique_id"]: r["execution_time"] for r in results["results"]}
    nodes = {**manifest["nodes"], **manifest.get("snapshots", {})}

    def parents(uid: str) -> list[str]:
        return [p for p in nodes.get(uid, {}).get("depends_on", {}).get("nodes", []) if p in seconds]

    tests_of = defaultdict(list)
    for uid, node in nodes.items():
        if node.get("resource_type") == "test":
            for parent in parents(uid):
                tests_of[parent].append(uid)
    ancestors: dict[str, set[str]] = {}
    longest: dict[str, float] = {}

    def ancestors_of(uid: str) -> set[str]:
        if uid not in ancestors:
            ancestors[uid] = set().union(*({p} | ancestors_of(p) for p in parents(uid)))
        return ancestors[uid]

    def longest_to(uid: str) -> float:
        if uid not in longest:
            waits_for = parents(uid)
            if nodes.get(uid, {}).get("resource_type") != "test":  # a test of several models runs after the last
                waits_for += [t for p in parents(uid) for t in tests_of[p] if set(parents(t)) <= ancestors_of(uid)]
            longest[uid] = seconds[uid] + max((longest_to(p) for p in waits_for), default=0.0)
        return longest[uid]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(seconds)))
    return max(longest_to(uid) for uid in seconds)


def timed_build(settings, night: date, args: list[str], target: Path, label: str) -> dict:
    from warehouse.dbt import run_dbt

    drop_build_schema(settings)
    load_before = wait_for_quiet()
    dbt_cpu_before, pg_cpu_before = _children_cpu_seconds(), postgres_cpu_seconds(settings)
    started = time.monotonic()
    returncode = run_dbt(settings, [*args, "--target-path", str(target), "--log-path", str(target / "logs")],
                         extract_date=night.isoformat(), check=False)
    wall = time.monotonic() - started
    dbt_cpu, pg_cpu_after = _children_cpu_seconds() - dbt_cpu_before, postgres_cpu_seconds(settings)
    load_after = os.getloadavg()[0]
    results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    by_kind: dict[str, float] = defaultdict(float)
    for node in results["results"]:
        by_kind[node["unique_id"].split(".")[0]] += node["execution_time"]
    memo_seconds = sum(n["execution_time"] for n in results["results"] if n["unique_id"].split(".")[-1] in MEMOS)
    return {
        "build": label, "night": night.isoformat(), "command": "dbt " + " ".join(args), "ok": returncode == 0,
        "wall_seconds": round(wall, 1), "dbt_elapsed_seconds": round(results["elapsed_time"], 1),
        "node_seconds": round(sum(by_kind.values()), 1),
        "node_seconds_by_kind": {k: round(v, 1) for k, v in sorted(by_kind.items())},
        "memo_model_seconds": round(memo_seconds, 2), "nodes": len(results["results"]),
        "critical_path_seconds": round(critical_path_seconds(manifest, results), 1),
        "dbt_cpu_seconds": round(dbt_cpu, 1),
        "postgres_cpu_seconds": None if pg_cpu_before is None else round(pg_cpu_after - pg_cpu_before, 1),
        "load_average_before": round(load_before, 2), "load_average_after": round(load_after, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="borough")
    parser.add_argument("--night", default="2026-11-22", help="the first night; the next night is the day after")
    parser.add_argument("--skip-load", action="store_true", help="the two nights are already loaded")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of builds without unit tests")
    args = parser.parse_args()

    from pipeline.nightly import NIGHTLY_DBT_BUILD
    from warehouse.settings import load

    settings = load()
    first = date.fromisoformat(args.night)
    second = first + timedelta(days=1)
    if not args.skip_load:
        load_nights(settings, [first, second], args.scale)
    target = settings.state_dir / "bench-dbt-incremental"
    target.mkdir(parents=True, exist_ok=True)

    # The extract date reaches dbt in the environment (warehouse/dbt.py), so dbt's partial-parse
    # cache in the target folder stays valid from one build to the next, as from night to night.
    # Parsing is in the wall time, not in dbt's elapsed time.

    # The command before this change: with the unit tests, and the date in --vars (a full parse).
    def old_command(night: date) -> list[str]:
        return ["build", "--vars", json.dumps({"extract_date": night.isoformat()})]

    pairs = [(lambda night: NIGHTLY_DBT_BUILD, "")] * args.repeat + [(old_command, ", old command")]
    results = []
    for command, suffix in pairs:
        for night, dbt_args, label in [(first, [*command(first), "--full-refresh"], "full refresh" + suffix),
                                       (second, command(second), "next night, incremental" + suffix)]:
            row = timed_build(settings, night, [*dbt_args, *NO_SNAPSHOTS], target, label)
            results.append(row)
            print(json.dumps(row), flush=True)
    # The floor: the same nodes over zero rows (dbt's --empty: every ref and source reads no rows),
    # the time no incremental strategy could beat. Last, as it empties the memos.
    for _ in range(args.repeat):
        row = timed_build(settings, second, [*NIGHTLY_DBT_BUILD, "--empty", *NO_SNAPSHOTS], target, FLOOR)
        results.append(row)
        print(json.dumps(row), flush=True)

    summary = {}
    for label in dict.fromkeys(r["build"] for r in results):
        runs = [r for r in results if r["build"] == label and r["ok"]]
        summary[label] = {measure: {"min": min(r[measure] for r in runs),
                                    "median": round(statistics.median(r[measure] for r in runs), 2)}
                          for measure in ("wall_seconds", "dbt_elapsed_seconds", "node_seconds",
                                          "memo_model_seconds", "dbt_cpu_seconds", "critical_path_seconds")}
        summary[label]["runs"] = len(runs)
    changes = changed_rows(settings, first, second)

    busy = [r["build"] for r in results if r["load_average_before"] > BUSY_LOAD]
    out = ROOT / "bench" / "results" / "dbt_incremental.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured": datetime.now(timezone.utc).isoformat(timespec="minutes"),
                               "scale": args.scale, "cpus": os.cpu_count(), "nights": [str(first), str(second)],
                               "summary": summary, "changed_rows": changes, "results": results,
                               "busy_before": busy}, indent=2) + "\n")

    print(f"\n{'build':48} {'night':10} {'ok':3} {'wall s':>7} {'dbt s':>6} {'node s':>7} {'memo s':>7} "
          f"{'dbt CPU s':>9} {'PG CPU s':>8} {'chain s':>7} {'load before/after':>17}")
    for r in results:
        print(f"{r['build']:48} {r['night']:10} {'yes' if r['ok'] else 'NO':3} {r['wall_seconds']:>7} "
              f"{r['dbt_elapsed_seconds']:>6} {r['node_seconds']:>7} {r['memo_model_seconds']:>7} "
              f"{r['dbt_cpu_seconds']:>9} {str(r['postgres_cpu_seconds']):>8} {r['critical_path_seconds']:>7} "
              f"{r['load_average_before']:>8} / {r['load_average_after']:<6}")
    print(f"\n{'build (min / median of runs)':48} {'wall s':>13} {'dbt s':>13} {'node s':>13} {'memo s':>13}")
    for label, m in summary.items():
        cells = " ".join(f"{m[k]['min']:>6} /{m[k]['median']:>6}" for k in
                         ("wall_seconds", "dbt_elapsed_seconds", "node_seconds", "memo_model_seconds"))
        print(f"{label + ' (' + str(m['runs']) + ')':48} {cells}")
    changed_files = [f for f, c in changes.items() if c["rows_not_in_previous_night"] or c["previous_rows_gone"]]
    rows, changed, gone = (sum(c[k] for c in changes.values())
                           for k in ("rows", "rows_not_in_previous_night", "previous_rows_gone"))
    print(f"\nchain s: the longest chain of dependent nodes (the least time on unlimited cores).\n"
          f"{second}'s files against {first}'s: {len(changed_files)} of {len(changes)} files differ; "
          f"{changed:,} of their {rows:,} rows are new or changed (the incremental feeds' files are their "
          f"deltas) and {gone:,} of the previous night's rows are gone (changed or deleted).")
    if busy:
        print(f"\nWARNING: the 1-minute load average was above {BUSY_LOAD} before: {', '.join(busy)}. "
              "Something else was using the CPU: run again when the machine is quiet.")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
