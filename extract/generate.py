"""Synthetic nightly extracts: generated data only, never real children's data.

Seeded, so the same seed, scale and extract date give byte-identical files.
``borough`` scale is sized on the London borough in ../shared/domain.md.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .feeds import CRS_MISSING_EPISODES, CRS_RETURN_HOME_INTERVIEWS, Feed

SCALES = {
    # missing episodes a year, children who go missing
    "tiny": (120, 40),
    "borough": (2400, 450),
    "region": (2400 * 33, 450 * 33),
}
TEAMS = ("Assessment", "Children in Need North", "Children in Need South", "Children Looked After",
         "Leaving Care", "Adolescent Support")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class GeneratedNight:
    extract_date: date
    folder: Path
    files: dict[str, Path]  # feed id -> file
    rows: dict[str, int]


def landing_folder(landing_dir: Path, source: str, extract_date: date) -> Path:
    """Where a night's files for one source system land: <landing>/<source>/<YYYY-MM-DD>/."""
    return landing_dir / source / extract_date.isoformat()


def _fmt(moment: datetime | None) -> str:
    return moment.strftime(TIMESTAMP_FORMAT) if moment else ""


def _write(folder: Path, feed: Feed, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / feed.file_name
    tmp = path.with_suffix(".partial")
    # Write then rename, so a reader never sees a half-written file.
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=feed.column_names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def generate_night(landing_dir: Path, extract_date: date, *, scale: str = "borough", seed: int = 20261123) -> GeneratedNight:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    episodes_per_year, children = SCALES[scale]
    rng = random.Random(f"{seed}:{scale}:{extract_date.isoformat()}")
    # The extract is a full snapshot of the last year's episodes as at the end of extract_date.
    window_start = datetime.combine(extract_date - timedelta(days=365), time(0, 0))
    extract_end = datetime.combine(extract_date, time(23, 59))

    child_ids = [f"P{100000 + i}" for i in range(children)]
    child_looked_after = {c: rng.random() < 0.6 for c in child_ids}
    child_team = {c: ("Children Looked After" if child_looked_after[c] else rng.choice(TEAMS)) for c in child_ids}
    # A few children go missing often: weight them so episodes cluster as they do in practice.
    weights = [rng.paretovariate(1.5) for _ in child_ids]

    episodes: list[dict] = []
    interviews: list[dict] = []
    next_start: dict[str, datetime] = {}
    starts = sorted(window_start + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(episodes_per_year))
    for n, start in enumerate(starts):
        child = rng.choices(child_ids, weights)[0]
        # No overlapping episodes for one child (903 validator rule): start after the last return.
        if child in next_start and start < next_start[child]:
            start = next_start[child] + timedelta(hours=rng.randint(6, 96))
            if start > extract_end:
                continue
        duration = timedelta(minutes=max(30, int(rng.lognormvariate(math.log(18 * 60), 1.0))))
        end: datetime | None = start + duration
        if end > extract_end:
            end = None  # still missing at the time of the extract
        next_start[child] = end or extract_end + timedelta(days=1)
        episode_id = f"ME{extract_date:%y}{n:06d}"
        looked_after = child_looked_after[child]
        episodes.append({
            "episode_id": episode_id,
            "person_id": child,
            "missing_type": "A" if looked_after and rng.random() < 0.3 else "M",
            "missing_start": _fmt(start),
            "missing_end": _fmt(end),
            "looked_after": "Y" if looked_after else "N",
            "team": child_team[child],
        })
        if end is None or rng.random() > 0.85:
            continue  # no RHI form recorded: the gap the inspection found
        conducted_by = "PROVIDER" if rng.random() < (0.7 if looked_after else 0.5) else "COUNCIL"
        roll = rng.random()
        offered = interview = None
        if roll < 0.55:
            outcome = "OFFERED_ACCEPTED"
        elif roll < 0.75:
            outcome = "OFFERED_DECLINED"
        elif roll < 0.83:
            outcome = "NOT_OFFERED_MISSING_AGAIN"
        elif roll < 0.95:
            outcome = "NOT_OFFERED_NO_CONTACT"
        else:
            outcome = "NOT_OFFERED_OTHER"
        if outcome.startswith("OFFERED"):
            offered = end + timedelta(minutes=int(rng.lognormvariate(math.log(30 * 60), 0.8)))
            if offered > extract_end:
                continue  # not recorded yet
            if outcome == "OFFERED_ACCEPTED":
                interview = offered + timedelta(minutes=int(rng.lognormvariate(math.log(20 * 60), 0.9)))
                if interview > extract_end:
                    interview = None
        interviews.append({
            "rhi_id": f"RHI{extract_date:%y}{n:06d}",
            "episode_id": episode_id,
            "offered_at": _fmt(offered),
            "interview_at": _fmt(interview),
            "outcome": outcome,
            "conducted_by": conducted_by,
        })

    folder = landing_folder(landing_dir, "crs", extract_date)
    files = {
        CRS_MISSING_EPISODES.id: _write(folder, CRS_MISSING_EPISODES, episodes),
        CRS_RETURN_HOME_INTERVIEWS.id: _write(folder, CRS_RETURN_HOME_INTERVIEWS, interviews),
    }
    rows = {CRS_MISSING_EPISODES.id: len(episodes), CRS_RETURN_HOME_INTERVIEWS.id: len(interviews)}
    return GeneratedNight(extract_date, folder, files, rows)
