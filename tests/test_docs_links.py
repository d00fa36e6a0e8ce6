"""The docs name files that exist.

Files move (issue 19 rearranged the Python into layers); a doc that still names the old path sends a
newcomer nowhere. Every relative link in the docs, the README and the benchmark results pages must
resolve, and every repository path they quote in backticks as a source file (``pipeline/nightly.py``,
``dbt_project/macros/rate.sql``) must exist. Benchmark outputs that are written, not committed
(``bench/results/*.json``), and paths in other projects' repositories are not source files here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_FOLDERS = ("dags/", "dbt_project/", "expectations/", "extract/", "synthetic/", "pipeline/", "publication/",
               "orchestration/", "safeguarding/", "warehouse/", "tests/", "bench/", "docs/", "bi/", "docker/")
SOURCE_SUFFIXES = (".py", ".sql", ".yml", ".yaml", ".md", ".j2", ".css", ".toml", ".csv")
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("bench/results/*.md")])


def missing_targets(page: Path) -> list[str]:
    text = page.read_text()
    missing = []
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        target = link.split("#")[0]
        if target and not target.startswith(("http:", "https:", "mailto:")) and not (page.parent / target).exists():
            missing.append(f"link ({link})")
    for quoted in re.findall(r"`([^`\s]+)`", text):
        path = quoted.rstrip(".,:;)").split("#")[0].split(":")[0]
        if (path.startswith(TOP_FOLDERS) and path.endswith(SOURCE_SUFFIXES)
                and not re.search(r"[*<>{}$]", path) and not (ROOT / path).exists()):
            missing.append(f"`{quoted}`")
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_a_doc_names_exists(page):
    missing = missing_targets(page)
    assert not missing, f"{page.relative_to(ROOT)} names files that do not exist: {', '.join(missing)}"


def test_a_moved_file_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See `warehouse/nightly.py` and [the rules](rules.md).\n")
    assert missing_targets(page) == ["link (rules.md)", "`warehouse/nightly.py`"]
