"""The files generated from the feed declarations agree with them (the drift test).

extract/feeds.py and extract/code_lists.py are the one source for a feed's shape and
its codes; extract/declared.py writes every file made from them (dbt sources, the
code_list macro, docs/feeds.md). A hand edit of a generated file, or a declaration
changed without regenerating, fails here, naming the file and the command that fixes it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from extract import code_lists, declared
from extract import feeds

ROOT = declared.ROOT


def test_every_generated_file_is_what_the_declarations_make():
    stale = declared.drifted()
    assert not stale, ("generated files differ from extract/feeds.py and extract/code_lists.py: "
                       + ", ".join(map(str, stale)) + f". Run `{declared.COMMAND}` (python -m extract.declared) "
                       "and commit the result; edit the declarations, not the generated files.")


def test_each_generated_file_says_so_in_its_first_line():
    for path, text in declared.generated_files().items():
        first = text.splitlines()[0]
        assert declared.HEADER in first, f"{path}: the first line should say `{declared.HEADER}`"
        assert declared.COMMAND in first


def test_a_hand_edited_or_missing_file_is_named(tmp_path):
    written = declared.write(tmp_path)
    assert sorted(written) == sorted(declared.generated_files()), "write() should write every file into a new root"
    assert declared.drifted(tmp_path) == []
    edited = tmp_path / "dbt_project/models/staging/hr/_hr__sources.yml"
    edited.write_text(edited.read_text().replace("Id of the post", "Post id"))
    (tmp_path / declared.CODE_LISTS_MACRO).unlink()
    assert sorted(declared.drifted(tmp_path)) == sorted([Path("dbt_project/models/staging/hr/_hr__sources.yml"),
                                                         declared.CODE_LISTS_MACRO])
    assert declared.main(["--check"]) == 0  # the repository's own files are current


def test_every_feed_and_column_is_a_dbt_source_table_with_its_columns():
    import yaml

    for source in feeds.SOURCES:
        path = ROOT / declared.STAGING / source / f"_{source}__sources.yml"
        [block] = yaml.safe_load(path.read_text())["sources"]
        tables = {t["name"]: t for t in block["tables"]}
        assert set(tables) == {f.id for f in feeds.FEEDS if f.source == source}, path
        assert block["freshness"]["error_after"] == {"count": feeds.FRESHNESS_ERROR_HOURS, "period": "hour"}
        for feed in (f for f in feeds.FEEDS if f.source == source):
            columns = tables[feed.id]["columns"]
            assert [c["name"] for c in columns] == list(feed.column_names), f"{path}: {feed.id}"
            assert all(c["data_type"] == "text" for c in columns)  # raw keeps every value as delivered


def test_no_code_list_is_written_out_in_dbt_yaml():
    """accepted_values read the lists through code_list(name), not a copy of the codes."""
    lists = {frozenset(codes): name for name, codes in code_lists.CODE_LISTS.items()}
    copies = []
    for path in sorted((ROOT / "dbt_project").rglob("*.yml")):
        if "target" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.match(r"\s*values: (\[.*\])\s*$", line)
            if match and frozenset(json.loads(match.group(1))) in lists:
                copies.append(f"{path.relative_to(ROOT)}:{number} copies {lists[frozenset(json.loads(match.group(1)))]}")
    assert not copies, "use values: \"{{ code_list('NAME') }}\" instead:\n" + "\n".join(copies)


def _code_columns():
    """Every coded column: of the nightly feeds and of the statutory returns' feeds (extract/returns/)."""
    from extract.returns.registry import RETURNS

    every_feed = list(feeds.FEEDS) + [f for statutory_return in RETURNS for f in statutory_return.feeds]
    return [(feed, c) for feed in every_feed for c in feed.columns if c.type == feeds.CODE]


def test_every_coded_column_reads_its_codes_from_code_lists():
    """A column's codes are a list of extract/code_lists.py itself, not a copy (the service areas excepted)."""
    lists = list(code_lists.CODE_LISTS.values()) + [feeds.SERVICE_AREAS]
    elsewhere = [f"{feed.id}.{c.name}" for feed, c in _code_columns() if not any(c.codes is listed for listed in lists)]
    assert not elsewhere, "name these columns' codes in extract/code_lists.py (with their source): " + ", ".join(elsewhere)


# Python outside code_lists.py where a tuple of codes would be a second copy of a list. Not synthetic/: its
# tuples of codes are the generator's weighted mix (a few codes each, with their weights), checked instead by
# test_the_generator_writes_only_declared_codes below.
NO_COPIES_UNDER = ("extract", "expectations")


def _string_tuples(path: Path):
    """(line, codes) of each tuple, list or set literal of two or more strings in a Python file."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) >= 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, frozenset(e.value for e in node.elts)


def copied_code_lists(paths) -> list[str]:
    """Literal tuples that are a code list, or three or more codes of one: each should be read from code_lists.py."""
    lists = {name: frozenset(codes) for name, codes in code_lists.CODE_LISTS.items()}
    copies = []
    for path in paths:
        for line, codes in _string_tuples(path):
            for name, listed in lists.items():
                if codes == listed or (len(codes) >= 3 and codes < listed):
                    copies.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line} "
                                  f"copies {'' if codes == listed else 'part of '}{name}")
    return copies


def test_no_code_list_is_copied_in_python():
    """The loader, the returns' feeds and their mappings read the lists from extract/code_lists.py."""
    gone = [folder for folder in NO_COPIES_UNDER if not (ROOT / folder).is_dir()]
    assert not gone, f"NO_COPIES_UNDER names folders that are gone (moved?): {gone}"
    paths = [p for folder in NO_COPIES_UNDER for p in sorted((ROOT / folder).rglob("*.py"))
             if p != ROOT / "extract/code_lists.py"]
    copies = copied_code_lists(paths)
    assert not copies, "read these from extract/code_lists.py (feeds.<LIST> or code_lists.<LIST>):\n" + "\n".join(copies)


def test_a_copied_code_list_is_found(tmp_path):
    """The check above fails on a copy, whole or in part, and leaves other strings alone."""
    module = tmp_path / "copy.py"
    module.write_text('CATEGORIES = ("NEG", "PHY", "SAB", "EMO", "MUL")\n'
                      'TOUCH = ("REFU", "NREQ", "RHOM", "DIED")\n'
                      'RESPITE = ("V3", "V4")\n'  # two codes of a list: a rule's choice, not a copy
                      'WORDS = ("alpha", "beta", "gamma")\n')
    assert copied_code_lists([module]) == [f"{module}:1 copies CP_CATEGORIES", f"{module}:2 copies part of IN_TOUCH"]


def test_every_code_list_names_its_source():
    for name, codes in code_lists.CODE_LISTS.items():
        assert codes and len(set(codes)) == len(codes), f"{name}: empty or a code twice"
        assert len(codes.source) > 20, f"{name}: say where the codes come from (document, field)"


def test_accommodation_follows_the_903_validator_rule_133():
    """SSDA903 OC3 ACCOM: S (no fixed abode) and X (in custody) are never suitable, so S1 and X1 are not codes."""
    assert "S1" not in feeds.ACCOMMODATION and "X1" not in feeds.ACCOMMODATION
    assert {"S2", "X2", "B1", "Z2", "0"} <= set(feeds.ACCOMMODATION)
    assert len(feeds.ACCOMMODATION) == 31  # 16 letters x 2 suitabilities, less S1 and X1, plus 0


@pytest.fixture(scope="module")
def tiny_night(tmp_path_factory):
    from datetime import date

    from synthetic.generate import generate_night

    return generate_night(tmp_path_factory.mktemp("tiny"), date(2026, 11, 22), scale="tiny")


def test_the_generator_writes_only_declared_codes(tiny_night):
    """Every coded value the generator writes is in its column's list (one tiny night, every feed)."""
    import csv

    unknown = []
    for feed in feeds.FEEDS:
        coded = [c for c in feed.columns if c.codes]
        with Path(tiny_night.files[feed.id]).open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                unknown += [f"{feed.id}.{c.name}: {row[c.label]!r}" for c in coded
                            if row[c.label] != "" and row[c.label] not in c.codes]
    assert not unknown, "the generator wrote codes its lists reject: " + ", ".join(sorted(set(unknown)))


# Staging columns whose transform goes beyond the declared type, written in the model on purpose.
TRANSFORMED_IN_THE_MODEL = {
    ("crs__people", "nhs_number"), ("police__missing_notifications", "nhs_number"),  # to digits only
    ("crs__people", "postcode"), ("crs__looked_after_episodes", "placement_postcode"),  # upper case
    ("crs__tracker_entries", "raised_by"),  # upper case
    ("crs__missing_episodes", "team"),  # blank becomes null, as staging always did
}


def test_staging_models_cast_each_declared_column_with_typed():
    """A staging model casts through macro typed (its type from the declaration), not by hand."""
    by_hand = []
    for feed in feeds.FEEDS:
        [model] = (ROOT / declared.STAGING / feed.source).glob(f"stg_{feed.id}.sql")
        sql = model.read_text()
        typed = set(re.findall(r"\{\{ typed\('(\w+)'\) \}\}", sql))
        assert typed <= set(feed.column_names), f"{model.name}: typed() of an undeclared column"
        by_hand += [f"{model.name}: {c}" for c in feed.column_names
                    if c not in typed and (feed.id, c) not in TRANSFORMED_IN_THE_MODEL and re.search(rf"\b{c}\b", sql)]
    assert not by_hand, "cast with {{ typed('column') }} instead: " + ", ".join(by_hand)
