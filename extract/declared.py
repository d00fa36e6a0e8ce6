"""Every file generated from the feed declarations, and the one command that writes them.

    make declared                       (or: python -m extract.declared)
    python -m extract.declared --check  exit 1, naming each file that differs from the declarations

The declarations are extract/feeds.py (feeds, columns, types, keys, sources) and
extract/code_lists.py (the code lists). From them come:

* each dbt source's YAML, dbt_project/models/staging/<source>/_<source>__sources.yml: its
  tables, their columns (as raw holds them: text) with descriptions, declared types and codes,
  and the freshness of the nightly feeds;
* dbt_project/macros/code_lists.sql: the macro ``code_list(name)`` that the staging models'
  ``accepted_values`` tests read, so the codes are written once;
* dbt_project/macros/feed_columns.sql: each feed's columns with their declared type and whether
  they are required, which the staging models' casts read (macro ``typed``, macros/typed.sql);
* docs/feeds.md (extract/docs.py).

The loader, the raw-zone expectations (expectations/suites.py) and the generator read the
declarations directly, so they have no generated file. Each generated file starts with a line
saying so; tests/test_declared_files.py fails when one differs from what this module makes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import code_lists, docs
from . import feeds

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "make declared"
HEADER = f"generated from extract/feeds.py by `{COMMAND}` (python -m extract.declared): do not edit"
STAGING = Path("dbt_project/models/staging")
CODE_LISTS_MACRO = Path("dbt_project/macros/code_lists.sql")
FEED_COLUMNS_MACRO = Path("dbt_project/macros/feed_columns.sql")
FEEDS_DOC = Path("docs/feeds.md")

TYPE_WORDS = {
    feeds.TEXT: "text",
    feeds.CODE: "a code",
    feeds.DATE: "a date, YYYY-MM-DD",
    feeds.DATETIME: "a date-time, YYYY-MM-DD HH:MM, London local time",
    feeds.NUMBER: "a number",
    feeds.FLAG: "a flag, Y or N",
    feeds.DATE_DMY: "a date, DD/MM/YYYY",
}


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def code_list_name(codes: tuple[str, ...]) -> str | None:
    """The name of the code list a column's codes are (None for the council's service areas)."""
    return next((name for name, listed in code_lists.CODE_LISTS.items() if tuple(listed) == tuple(codes)), None)


def column_description(column: feeds.Column) -> str:
    text = column.description.rstrip(".") + (f" ({column.standard})" if column.standard else "") + "."
    text += f" Delivered as {TYPE_WORDS[column.type]}" + ("" if column.required else "; may be empty") + "."
    if column.type == feeds.CODE:
        name = code_list_name(column.codes)
        if name:
            text += f" Codes ({name}, extract/code_lists.py): {', '.join(column.codes)}."
        else:
            text += " Codes: the council's service areas (reference data, service_areas.csv)."
    return text


def table_description(feed: feeds.Feed) -> str:
    kind = "Snapshot feed (each extract is the whole table)" if feed.snapshot else \
        "Incremental feed (rows changed since the last extract; keep the latest version by updated_at)"
    return f"{feed.description} {kind}. Key: {', '.join(feed.key)}."


def sources_yaml(source: str) -> str:
    description = (feeds.SOURCE_DESCRIPTIONS.get(source, f"The {source} feeds.") +
                   " Loaded nightly into the raw zone by the extract layer (extract/): every value is text as "
                   "delivered, and each row carries its lineage (_batch_id, _source_file, _row_number ...). "
                   "Declared in extract/feeds.py; file layouts in docs/feeds.md.")
    lines = [
        f"# {HEADER}",
        "version: 2",
        "",
        "sources:",
        f"  - name: {source}",
        f"    description: {_quoted(description)}",
        "    schema: raw",
        "    loaded_at_field: _loaded_at",
        "    freshness:",
        f"      warn_after: {{count: {feeds.FRESHNESS_WARN_HOURS}, period: hour}}",
        f"      error_after: {{count: {feeds.FRESHNESS_ERROR_HOURS}, period: hour}}",
        "    tables:",
    ]
    for feed in (f for f in feeds.FEEDS if f.source == source):
        lines += [f"      - name: {feed.id}", f"        description: {_quoted(table_description(feed))}",
                  "        columns:"]
        for column in feed.columns:
            lines += [f"          - name: {column.name}", "            data_type: text",
                      f"            description: {_quoted(column_description(column))}"]
    return "\n".join(lines) + "\n"


def code_lists_macro() -> str:
    entries = ",\n".join(f"        {_quoted(name)}: {json.dumps(list(codes))}"
                         for name, codes in code_lists.CODE_LISTS.items())
    return f"""{{# {HEADER} #}}

{{#- The codes of one list of extract/code_lists.py, by its name there: what staging's accepted_values
    tests accept, e.g. `values: "{{{{ code_list('PLACEMENT_TYPES') }}}}"`. An unknown name stops the parse. -#}}
{{% macro code_list(name) %}}
    {{%- set lists = {{
{entries}
    }} -%}}
    {{%- if name not in lists -%}}
        {{{{ exceptions.raise_compiler_error("code_list: no code list named '" ~ name ~ "' in extract/code_lists.py") }}}}
    {{%- endif -%}}
    {{{{ return(lists[name]) }}}}
{{% endmacro %}}
"""


def feed_columns_macro() -> str:
    entries_by_feed = []
    for feed in feeds.FEEDS:
        columns = ",\n".join(f"            {_quoted(c.name)}: [{_quoted(c.type)}, {json.dumps(c.required)}]"
                              for c in feed.columns)
        entries_by_feed.append(f"        {_quoted(feed.id)}: {{\n{columns}\n        }}")
    entries = ",\n".join(entries_by_feed)
    return f"""{{# {HEADER} #}}

{{#- Each feed's columns: [declared type, required]. Read by macro typed (macros/typed.sql), which
    casts a raw column as its staging model's feed declares it. -#}}
{{% macro feed_columns() %}}
    {{{{ return({{
{entries}
    }}) }}}}
{{% endmacro %}}
"""


def feeds_doc() -> str:
    return f"<!-- {HEADER} -->\n\n" + docs.render()


def generated_files() -> dict[Path, str]:
    """Every generated file (path relative to the project root) and the text the declarations make."""
    files = {STAGING / source / f"_{source}__sources.yml": sources_yaml(source) for source in feeds.SOURCES}
    files[CODE_LISTS_MACRO] = code_lists_macro()
    files[FEED_COLUMNS_MACRO] = feed_columns_macro()
    files[FEEDS_DOC] = feeds_doc()
    return files


def drifted(root: Path = ROOT) -> list[Path]:
    """The generated files whose text differs from what the declarations make (or that are missing)."""
    return [path for path, text in generated_files().items()
            if not (root / path).exists() or (root / path).read_text(encoding="utf-8") != text]


def write(root: Path = ROOT) -> list[Path]:
    """Write every generated file that differs; returns those written."""
    changed = drifted(root)
    files = generated_files()
    for path in changed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(files[path], encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m extract.declared", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted()
        for path in stale:
            print(f"{path}: differs from the declarations; run `{COMMAND}`", file=sys.stderr)
        return 1 if stale else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
