"""Waiting for the night's files: one deferrable sensor per feed, which says which feed is late.

Each feed's file lands at ``<landing>/<source>/<extract date>/<file>`` (extract/feeds.py).
The nightly DAG has one ``LandingFileSensor`` per feed. It checks once on the
worker; if the file is not there it *defers*: the worker slot is freed and
Airflow's triggerer polls the path cheaply (``LandingFileTrigger``) until the file
arrives or the wait is over.

Why not the standard provider's FileSensor: its trigger waits forever and leaves
the timeout to the scheduler, which fails the task with a generic "trigger
timeout" that names no feed (and `airflow dags test` runs triggers in-process
with no timeout at all). Here the trigger owns the deadline, so the failure says
"feed crs__missing_episodes is late: <path> had not arrived by <time>", in the
task log and in the alert, in every mode.

A late file is retried (the DAG's retries with exponential backoff): each try
waits ``SAFEGUARDING_FEED_WAIT_MINUTES`` again, and each failed try sends an
alert, so the on-call analyst hears early and the night still goes ahead if
the file turns up.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException
from airflow.triggers.base import BaseTrigger, TriggerEvent

# How long one try of a sensor waits for its file, in minutes (fractions allowed, for tests).
FEED_WAIT_SETTING = "SAFEGUARDING_FEED_WAIT_MINUTES"
DEFAULT_FEED_WAIT_MINUTES = 120.0
DEFAULT_POKE_SECONDS = 60.0


class FeedLate(AirflowException):
    """A feed's file did not arrive in time. Retried: the file may still come."""


def feed_wait(environ: dict[str, str] | None = None) -> timedelta:
    env = os.environ if environ is None else environ
    text = env.get(FEED_WAIT_SETTING, "").strip()
    try:
        minutes = float(text) if text else DEFAULT_FEED_WAIT_MINUTES
        if minutes <= 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{FEED_WAIT_SETTING} must be a positive number of minutes, got {text!r}") from None
    return timedelta(minutes=minutes)


def landing_path(feed_id: str, extract_date: date, landing_dir: Path | None = None) -> Path:
    """Where the feed's file for the night is expected (the same path the loader reads)."""
    from extract.feeds import FEEDS_BY_ID
    from extract.load_night import expected_file

    if landing_dir is None:
        from warehouse.settings import load

        landing_dir = load().landing_dir
    return expected_file(landing_dir, FEEDS_BY_ID[feed_id], extract_date)


class LandingFileTrigger(BaseTrigger):
    """Polls for one file until it exists or the deadline passes; fires once either way."""

    def __init__(self, feed_id: str, path: str, deadline: str, poke_interval: float = DEFAULT_POKE_SECONDS):
        super().__init__()
        self.feed_id = feed_id
        self.path = path
        self.deadline = deadline  # ISO 8601, UTC
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("orchestration.sensors.LandingFileTrigger",
                {"feed_id": self.feed_id, "path": self.path, "deadline": self.deadline,
                 "poke_interval": self.poke_interval})

    async def run(self):
        deadline = datetime.fromisoformat(self.deadline)
        while True:
            if os.path.isfile(self.path):
                yield TriggerEvent({"status": "arrived", "feed_id": self.feed_id, "path": self.path})
                return
            remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
            if remaining <= 0:
                yield TriggerEvent({"status": "late", "feed_id": self.feed_id, "path": self.path,
                                    "deadline": self.deadline})
                return
            await asyncio.sleep(min(self.poke_interval, remaining))


class LandingFileSensor(BaseSensorOperator):
    """Waits (deferred) for one feed's file for the night's extract date."""

    template_fields = ("extract_date",)
    ui_color = "#c9e4f5"

    def __init__(self, *, feed_id: str, extract_date: str, poke_interval: float = DEFAULT_POKE_SECONDS,
                 **kwargs):
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.feed_id = feed_id
        self.extract_date = extract_date  # templated: the resolve_extract_date task's result

    def _path(self) -> Path:
        return landing_path(self.feed_id, date.fromisoformat(str(self.extract_date)))

    def poke(self, context) -> bool:
        return self._path().is_file()

    def execute(self, context) -> str | None:
        from extract.sources import sql_sources

        if self.feed_id in sql_sources():
            # Extracted by query during the extract task (extract/sources.py): no file to wait for.
            self.log.info("Feed %s comes from a SQL source (SAFEGUARDING_SQL_SOURCES): nothing to wait for",
                          self.feed_id)
            return None
        path = self._path()
        if path.is_file():
            self.log.info("Feed %s: %s has arrived", self.feed_id, path)
            return str(path)
        wait = feed_wait()
        deadline = datetime.now(timezone.utc) + wait
        self.log.info("Feed %s: waiting for %s until %s (deferred to the triggerer)",
                      self.feed_id, path, deadline.isoformat(timespec="seconds"))
        self.defer(
            trigger=LandingFileTrigger(self.feed_id, str(path), deadline.isoformat(), self.poke_interval),
            method_name="execute_complete",
            # A backstop only: the trigger itself fires at the deadline with a clear message.
            timeout=wait + timedelta(minutes=10),
        )

    def execute_complete(self, context, event: dict | None = None) -> str:
        if event and event.get("status") == "arrived":
            self.log.info("Feed %s: %s has arrived", self.feed_id, event["path"])
            return event["path"]
        path = (event or {}).get("path", str(self._path()))
        deadline = (event or {}).get("deadline", "the deadline")
        raise FeedLate(f"Feed {self.feed_id} is late: {path} had not arrived by {deadline} "
                       f"(extract date {self.extract_date}; each try waits {feed_wait()})")
