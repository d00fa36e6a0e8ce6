"""Running a DAG once on the embedded default (`safeguarding run`, `safeguarding import-returns`), truthfully.

`airflow dags test` runs every task in its own process, one after another, with no scheduler:
the right tool for a laptop. Left to itself it gets three things wrong that a person then sees:

* **a run that did nothing "succeeds"**: the command exits 0 whenever the DAG run ends in
  success, and a run with no task at all (a logical date before the DAG's start_date) ends in
  success at once. So the caller checks the run itself (``RunSummary``): every task of the DAG
  ran and succeeded, and the night was published (``dq.nightly_runs``), or it says which step
  did not run and exits non-zero (``outcome_problems``).
* **false times**: it records the logical date as the run's start. The CLI therefore runs with
  the logical date *now*, and passes the night to process in the run's conf (``extract_date``),
  as an operator triggering a run by hand does: start, end and duration in the UI are true.
* **no task logs**: its tasks log to its console, not to the files the Airflow UI reads ("Log
  file not found"). ``TaskLogFiles`` copies each task's section of the console (between Airflow's
  ``[DAG TEST] starting task_id=...`` and ``[DAG TEST] end task task_id=...`` lines, dbt's and
  Great Expectations' output included) into the file the UI reads for that try, as the run goes.

``python -m safeguarding.local_run summary <dag_id> <run_id>`` prints a run's ``RunSummary`` as JSON
(from Airflow's metadata database; run in Airflow's environment, see safeguarding/cli.py).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUN_ID = re.compile(r"creating dag run .*?\brun_id=(\S+)")
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")
_LEVEL = re.compile(r"^\S+\s+\[(\w+)\s*\]")
PUBLISHED_STATUSES = ("published", "published_with_warnings")


class TaskLogFiles:
    """Writes each task's lines of an `airflow dags test` console into the log file the UI reads.

    The file is the one Airflow's own task runner writes in production, under the base log
    folder with the default name template: ``dag_id=<d>/run_id=<r>/task_id=<t>/attempt=<n>.log``
    (``map_index=<m>/`` before the attempt for a mapped task), one JSON object per line with
    the event and the time it was written, which the UI shows as the task's log.
    """

    def __init__(self, base_log_folder: Path, dag_id: str):
        self.base = Path(base_log_folder)
        self.dag_id = dag_id
        self.run_id: str | None = None
        self.attempts: dict[tuple[str, int], int] = {}
        self._file = None
        self.written: list[Path] = []

    def feed(self, line: str) -> None:
        text = _ANSI.sub("", line).rstrip("\n")
        if self.run_id is None:
            found = _RUN_ID.search(text)
            if found:
                self.run_id = found.group(1)
        start = _TASK_START.search(text)
        if start and self.run_id:
            self._close()
            key = (start.group(1), int(start.group(2)))
            self.attempts[key] = self.attempts.get(key, 0) + 1
            path = self.path(*key, self.attempts[key])
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")
            self.written.append(path)
        if self._file is not None:
            level = _LEVEL.match(text)
            record = {"timestamp": datetime.now(timezone.utc).isoformat(), "event": text}
            if level:
                record["level"] = level.group(1).lower()
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()  # the UI may be reading it while the run goes on
        if _TASK_END.search(text):
            self._close()

    def path(self, task_id: str, map_index: int, attempt: int) -> Path:
        folder = self.base / f"dag_id={self.dag_id}" / f"run_id={self.run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        return folder / f"attempt={attempt}.log"

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self._close()


@dataclass
class RunSummary:
    """What Airflow recorded for one DAG run: its state, and each task of the DAG with its state."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str] = field(default_factory=dict)  # task id -> state ("none": no task instance)

    def steps_not_succeeded(self) -> dict[str, str]:
        return {task: state for task, state in sorted(self.tasks.items()) if state != "success"}


def outcome_problems(summary: RunSummary | None, night_status: str | None, night_stage: str | None = None,
                     night_message: str | None = None) -> list[str]:
    """Why a run must not be reported as done: [] when every task succeeded and the night was published.

    ``night_status`` is the run's row in dq.nightly_runs (None: the run recorded none)."""
    if summary is None:
        return ["Airflow recorded no run (see the output above)"]
    problems = []
    if not summary.tasks:
        problems.append(f"the DAG run {summary.run_id} has no tasks: nothing ran")
    not_run = summary.steps_not_succeeded()
    if not_run:
        problems.append("steps that did not succeed: " + ", ".join(f"{t} ({s})" for t, s in not_run.items()))
    if summary.state != "success":
        problems.append(f"the DAG run ended in state {summary.state!r}")
    if night_status not in PUBLISHED_STATUSES:
        if night_status is None:
            problems.append("the night was not published: the run recorded no outcome in dq.nightly_runs")
        else:
            why = f": {night_message.splitlines()[0]}" if night_message else ""
            problems.append(f"the night was not published: dq.nightly_runs says {night_status} "
                            f"at {night_stage}{why}")
    return problems


def summary(dag_id: str, run_id: str) -> RunSummary | None:
    """The run and its tasks, from Airflow's metadata database (this process must be in Airflow's environment)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            return None
        states = {ti.task_id: str(ti.state.value if hasattr(ti.state, "value") else ti.state)
                  for ti in session.scalars(select(TaskInstance).where(
                      TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id))}
        dag = SerializedDagModel.get_dag(dag_id, session=session)
        expected = set(dag.task_ids) if dag is not None else set(states)
        state = str(run.state.value if hasattr(run.state, "value") else run.state)
    # A task of the DAG with no task instance in the run never ran.
    tasks = {task: states.get(task, "none") for task in expected | set(states)} if states else {}
    return RunSummary(dag_id, run_id, state, tasks)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "summary":
        print("usage: python -m safeguarding.local_run summary <dag_id> <run_id>", file=sys.stderr)
        return 2
    found = summary(argv[1], argv[2])
    print(json.dumps(None if found is None else found.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
