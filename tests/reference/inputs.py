"""What the reference reads: the nightly feeds' rows for one extract date, from the landing folder.

`from_landing` reads a generated (or delivered) night. `from_ssda903` reads the SSDA903 return's
CSVs as delivered (the folder handed to `safeguarding import-returns`) and maps them into the
nightly feeds as docs/returns.md ("SSDA903 as CSVs") describes, without the importer's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from extract.feeds import FEEDS_BY_ID, Feed

from .landing import Landing, checked_rows, read_csv
from .rules import dates, nth_birthday


@dataclass
class Inputs:
    extract_date: date
    feeds: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    held_back: dict[str, pd.DataFrame] = field(default_factory=dict)
    landing: Landing | None = None  # read a feed's files when first asked for

    def rows(self, feed_id: str) -> pd.DataFrame | None:
        if feed_id not in self.feeds and self.landing is not None:
            self.feeds[feed_id] = self.landing.rows(FEEDS_BY_ID[feed_id])
            self.held_back.update(self.landing.held_back)
        return self.feeds.get(feed_id)

    def delivered(self, feed_id: str) -> bool:
        return self.rows(feed_id) is not None


def from_landing(landing_dir: Path, extract_date: date) -> Inputs:
    return Inputs(extract_date, landing=Landing(landing_dir, extract_date))


def _return_table(folder: Path, feed: Feed) -> pd.DataFrame | None:
    path = folder / feed.file_name
    if not path.exists():
        return None
    kept, _ = checked_rows(feed, read_csv(path))
    return kept


def from_ssda903(folder: Path, as_at: date) -> Inputs:
    """docs/returns.md, "SSDA903 as CSVs": people from header (+ uasc), looked-after episodes from
    episodes, missing episodes from missing (dates read as midnight), care leavers from oc3 (under
    18 at 31 March: relevant; else former relevant). Each 903 table is checked by its own feed
    declaration first, as the loader does; the mapped rows by the nightly feed's."""
    from extract.returns.registry import RETURN_FEEDS

    declared = {f.id: f for f in RETURN_FEEDS}
    folder = Path(folder)
    table = {name: _return_table(folder, declared[f"ssda903__{name}"])
             for name in ("header", "episodes", "missing", "oc3", "uasc")}
    header = table["header"]
    uasc = set(table["uasc"]["child"]) if table["uasc"] is not None else set()
    born = dict(zip(header["child"], dates(header["dob"], dayfirst=True)))

    def iso(values: pd.Series) -> pd.Series:
        return pd.Series([d.isoformat() if d else "" for d in dates(values, dayfirst=True)], index=values.index)

    feeds: dict[str, pd.DataFrame | None] = {feed_id: None for feed_id in FEEDS_BY_ID}
    feeds["crs__people"] = pd.DataFrame({
        "person_id": header["child"], "nhs_number": "", "date_of_birth": iso(header["dob"]),
        "expected_date_of_birth": "", "gender": header["sex"], "ethnicity": header["ethnic"],
        "uasc": ["Y" if c in uasc else "N" for c in header["child"]], "postcode": ""})
    ep = table["episodes"]
    feeds["crs__looked_after_episodes"] = pd.DataFrame({
        "la_episode_id": ep["child"] + "/" + iso(ep["decom"]), "person_id": ep["child"],
        "start_date": iso(ep["decom"]), "end_date": iso(ep["dec"]), "reason_new_episode": ep["rne"],
        "legal_status": ep["ls"], "placement_type": ep["place"], "reason_episode_ceased": ep["rec"],
        "placement_postcode": ep["pl_post"]})
    mi = table["missing"]
    start, end = iso(mi["mis_start"]), iso(mi["mis_end"])
    feeds["crs__missing_episodes"] = pd.DataFrame({
        "episode_id": mi["child"] + "/" + start, "person_id": mi["child"], "missing_type": mi["missing"],
        "missing_start": start + " 00:00", "missing_end": end.where(end == "", end + " 00:00"),
        # The 903 names no team; the nightly feed requires one. DECISION: "NOT_RECORDED", the
        # word docs/marts.md uses for an episode with no team.
        "looked_after": "Y", "team": "NOT_RECORDED"})
    oc3 = table["oc3"]
    categories = ["RELEVANT" if born.get(c) and as_at < nth_birthday(born[c], 18) else "FORMER_RELEVANT"
                  for c in oc3["child"]]
    feeds["crs__care_leavers"] = pd.DataFrame({
        "person_id": oc3["child"], "eligibility_category": categories, "eligibility_date": "",
        "personal_adviser_id": "", "in_touch": oc3["in_touch"], "activity": oc3["activ"], "accommodation": oc3["accom"], "in_education": "N"})
    held_back = {}
    for feed_id in ("crs__people", "crs__looked_after_episodes", "crs__missing_episodes", "crs__care_leavers"):
        kept, held = checked_rows(FEEDS_BY_ID[feed_id], feeds[feed_id])
        feeds[feed_id], held_back[feed_id] = kept, held
    return Inputs(as_at, feeds, held_back=held_back)
