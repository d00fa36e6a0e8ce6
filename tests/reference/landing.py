"""Reading the delivered files straight from the landing folder, as pandas DataFrames of text.

The files' layout, columns, codes and keys are the feed declarations (extract/feeds.py, which
docs/feeds.md is generated from). A row the loader would hold back is held back here too, by the
rules docs/feeds.md states ("Row-level checks"), written again in pandas: a required value empty;
not a date, date-time or number; an unknown code or flag; a key already delivered earlier in the
file (the first row stays); an end before its start. Incremental feeds: the latest version of each
key over every delivery up to the extract date (latest `updated_at`, then the later delivery).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from extract.feeds import CODE, DATE, DATE_DMY, DATETIME, FLAG, NUMBER, VALUE_PATTERNS, Feed

from .rules import dates


def read_csv(path: Path) -> pd.DataFrame:
    """A delivered CSV as text (empty = ""), headers in lower case as the declarations store them."""
    raw = path.read_bytes()
    try:
        text_encoding = "utf-8-sig"
        raw.decode(text_encoding)
    except UnicodeDecodeError:
        text_encoding = "cp1252"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=text_encoding)
    frame.columns = [c.lower() for c in frame.columns]
    return frame


def _valid_values(values: pd.Series, column) -> pd.Series:
    """True where a non-empty value is well formed for its column's type (docs/feeds.md)."""
    if column.type in (CODE, FLAG):
        return values.isin(column.codes)
    pattern = VALUE_PATTERNS.get(column.type)
    if pattern is None:
        return pd.Series(True, index=values.index)
    ok = values.str.match(re.compile(pattern))
    if column.type in (DATE, DATE_DMY):
        fmt = "%d/%m/%Y" if column.type == DATE_DMY else "%Y-%m-%d"
        ok &= pd.to_datetime(values.where(ok), format=fmt, errors="coerce").notna() | ~ok
    elif column.type == DATETIME:
        ok &= pd.to_datetime(values.where(ok), format="%Y-%m-%d %H:%M", errors="coerce").notna() | ~ok
    return ok


def checked_rows(feed: Feed, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows the loader keeps, rows it holds back with a reason) for one delivered file."""
    frame = frame.reset_index(drop=True)
    reason = pd.Series("", index=frame.index)
    for column in feed.columns:
        values = frame[column.name] if column.name in frame else pd.Series("", index=frame.index)
        empty = values == ""
        if column.required:
            reason = reason.where(~(empty & (reason == "")), f"{column.name}: required")
        bad = ~empty & ~_valid_values(values, column)
        reason = reason.where(~(bad & (reason == "")), f"{column.name}: malformed or unknown code")
    if feed.start_end:
        start_name, end_name = feed.start_end
        column = feed.column(start_name)
        if column.type == DATETIME:
            start = pd.to_datetime(frame[start_name].where(reason == ""), format="%Y-%m-%d %H:%M", errors="coerce")
            end = pd.to_datetime(frame[end_name].where(reason == ""), format="%Y-%m-%d %H:%M", errors="coerce")
        else:
            fmt = "%d/%m/%Y" if column.type == DATE_DMY else "%Y-%m-%d"
            start = pd.to_datetime(frame[start_name].where(reason == ""), format=fmt, errors="coerce")
            end = pd.to_datetime(frame[end_name].where(reason == ""), format=fmt, errors="coerce")
        reason = reason.where(~((end < start) & (reason == "")), "end before start")
    # A repeated key: the first row delivered loads, later ones are held back (the checks above
    # apply first: a malformed row does not take its key).
    good = reason == ""
    repeated = frame[good].duplicated(subset=list(feed.key), keep="first")
    reason.loc[repeated[repeated].index] = "duplicate key"
    kept = frame[reason == ""].copy()
    held = frame[reason != ""].assign(reason=reason[reason != ""])
    return kept, held


class Landing:
    """The files of one extract date, read and checked once each."""

    def __init__(self, landing_dir: Path, extract_date: date):
        self.landing_dir = Path(landing_dir)
        self.extract_date = extract_date
        self.held_back: dict[str, pd.DataFrame] = {}
        self._cache: dict[str, pd.DataFrame | None] = {}

    def path(self, feed: Feed, night: date | None = None) -> Path:
        return self.landing_dir / feed.source / (night or self.extract_date).isoformat() / feed.file_name

    def delivered(self, feed: Feed) -> bool:
        """A feed is delivered when its file for the extract date is there (a header-only incremental
        file counts: a night with no changes)."""
        return self.rows(feed) is not None

    def rows(self, feed: Feed) -> pd.DataFrame | None:
        """The feed's rows as the loader keeps them, or None when the feed was not delivered."""
        if feed.id not in self._cache:
            self._cache[feed.id] = self._read(feed)
        return self._cache[feed.id]

    def _read(self, feed: Feed) -> pd.DataFrame | None:
        if feed.snapshot:
            path = self.path(feed)
            if not path.exists():
                return None
            kept, held = checked_rows(feed, read_csv(path))
            self.held_back[feed.id] = held
            return kept
        deliveries = sorted(d for d in (self.landing_dir / feed.source).iterdir()
                            if d.is_dir() and _is_date(d.name) and date.fromisoformat(d.name) <= self.extract_date
                            and (d / feed.file_name).exists()) if (self.landing_dir / feed.source).exists() else []
        if not deliveries or deliveries[-1].name != self.extract_date.isoformat():
            return None
        batches, held_back = [], []
        for order, folder in enumerate(deliveries):
            kept, held = checked_rows(feed, read_csv(folder / feed.file_name))
            batches.append(kept.assign(_delivery=order))
            held_back.append(held)
        self.held_back[feed.id] = pd.concat(held_back, ignore_index=True)
        every = pd.concat(batches, ignore_index=True)
        updated = pd.to_datetime(every["updated_at"], format="%Y-%m-%d %H:%M")
        every = every.assign(_updated=updated).sort_values(["_updated", "_delivery"])
        latest = every.drop_duplicates(subset=list(feed.key), keep="last")
        return latest.drop(columns=["_updated", "_delivery"]).reset_index(drop=True)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


__all__ = ["Landing", "checked_rows", "read_csv", "dates"]
