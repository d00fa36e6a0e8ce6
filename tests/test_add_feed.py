"""Adding a feed is the steps docs/operations.md lists ("Adding a feed"), and nothing else.

In a copy of the project, the test does what a newcomer would: declares a throwaway feed
(its code list in extract/code_lists.py, the Feed in extract/feeds.py), writes its staging
model, runs the one regenerate command, then loads a tiny file and builds the model with
dbt. Rows are counted in and out: the file's good rows reach staging, the bad one is
quarantined with its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extract import declared

from helpers import drop_database, fresh_database

pytestmark = pytest.mark.slow

DATABASE = "test_add_feed"
ROOT = declared.ROOT

CODE_LIST = '''
EXCLUSION_TYPES = CodeList(("FIXED_PERIOD", "PERMANENT"),
                           "DfE school census, exclusion category (a throwaway list of tests/test_add_feed.py).")
'''
FEED = '''
EDUCATION_EXCLUSIONS = Feed(
    source="education", name="exclusions", key=("exclusion_id",), start_end=("start_date", "end_date"),
    description="One row per exclusion of a child from school (a throwaway feed of tests/test_add_feed.py).",
    columns=(
        Column("exclusion_id", "Id of the exclusion"),
        PERSON_ID,
        Column("start_date", "First day of the exclusion", DATE),
        Column("end_date", "Last day of the exclusion; empty for a permanent one", DATE, required=False),
        Column("exclusion_type", "Fixed period or permanent", CODE, codes=EXCLUSION_TYPES),
    ),
)

'''
STAGING_SQL = """\
with source as (
    select * from {{ source('education', 'education__exclusions') }}
    where {{ current_extract(source('education', 'education__exclusions')) }}
)

select
    {{ typed('exclusion_id') }}    as exclusion_id,
    {{ typed('person_id') }}       as person_id,
    {{ typed('start_date') }}      as start_date,
    {{ typed('end_date') }}        as end_date,
    {{ typed('exclusion_type') }}  as exclusion_type,
    _extract_date                  as extract_date,
    _row_number                    as source_row_number,
    _batch_id                      as batch_id
from source
"""
STAGING_YAML = """\
version: 2

models:
  - name: stg_education__exclusions
    description: One row per exclusion of a child from school, typed.
    columns:
      - name: exclusion_id
        description: Id of the exclusion.
        data_tests: [unique, not_null]
      - name: exclusion_type
        description: FIXED_PERIOD or PERMANENT.
        data_tests:
          - accepted_values:
              arguments:
                values: "{{ code_list('EXCLUSION_TYPES') }}"
"""
DELIVERED = """\
exclusion_id,person_id,start_date,end_date,exclusion_type
X1,P1,2026-11-02,2026-11-04,FIXED_PERIOD
X2,P2,2026-10-01,,PERMANENT
X3,P3,2026-11-10,2026-11-10,FIXED_PERIOD
X4,P4,2026-11-12,2026-11-13,EXPELLED
"""
# Loads the file and builds the model, in the copy (its extract/, warehouse/ and dbt_project/).
LOAD_AND_BUILD = """\
import json, sys
from datetime import date
from pathlib import Path

import extract
from extract import feeds
from extract.load import load_file
from warehouse import db
from warehouse.dbt import run_dbt
from warehouse.settings import load

settings = load()
conn = db.connect(settings)
result = load_file(conn, feeds.FEEDS_BY_ID["education__exclusions"], Path(sys.argv[1]), date(2026, 11, 22))
code = run_dbt(settings, ["build", "--select", "stg_education__exclusions", "--target-path", sys.argv[2],
                          "--log-path", sys.argv[2] + "/logs"], extract_date="2026-11-22", check=False)
with conn.cursor() as cur:
    cur.execute("select exclusion_id, exclusion_type, end_date::text from staging.stg_education__exclusions "
                "order by exclusion_id")
    staged = cur.fetchall()
    cur.execute("select line_number, reason from raw.quarantine where batch_id = %s", (result.batch_id,))
    quarantined = cur.fetchall()
print(json.dumps({"package": extract.__file__, "rows": result.rows, "quarantined_rows": result.rows_quarantined,
                  "dbt": code, "staged": staged, "quarantine": quarantined}))
"""


def _edit(path: Path, before: str, insert: str) -> None:
    text = path.read_text()
    assert before in text, f"{path}: cannot find {before!r} to add the feed beside"
    path.write_text(text.replace(before, insert + before, 1))


@pytest.fixture
def copy(tmp_path):
    """The project's tracked files (the Python packages, dbt project and docs), in a folder of their own."""
    tracked = subprocess.run(["git", "ls-files", "extract", "warehouse", "expectations", "dbt_project", "docs"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def _run(copy: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(copy), **env})


def test_a_new_feed_declared_regenerated_loaded_and_built(settings, copy, tmp_path_factory):
    # 1. The declaration: a code list, the feed, its source's description.
    _edit(copy / "extract/code_lists.py", "\n# Every list by its name here", CODE_LIST)
    _edit(copy / "extract/feeds.py", "FEEDS: tuple[Feed, ...] = (", FEED)
    _edit(copy / "extract/feeds.py", "\n)\nFEEDS_BY_ID", " EDUCATION_EXCLUSIONS,")
    _edit(copy / "extract/feeds.py", "    RHI_CONDUCTED_BY, RHI_OUTCOMES,", "    EXCLUSION_TYPES,\n")
    _edit(copy / "extract/feeds.py", '    "crs": "The council', '    "education": "The schools\' exclusions.",\n')
    # 2. The staging model.
    staging = copy / "dbt_project/models/staging/education"
    staging.mkdir(parents=True)
    (staging / "stg_education__exclusions.sql").write_text(STAGING_SQL)
    (staging / "_education__models.yml").write_text(STAGING_YAML)
    # Until regenerated, the drift check names what is stale.
    stale = _run(copy, "-m", "extract.declared", "--check")
    assert stale.returncode == 1 and "_education__sources.yml" in stale.stderr and "make declared" in stale.stderr

    # 3. The one regenerate command.
    regenerated = _run(copy, "-m", "extract.declared")
    assert regenerated.returncode == 0, regenerated.stderr
    sources = (staging / "_education__sources.yml").read_text()
    assert declared.HEADER in sources.splitlines()[0] and "- name: education__exclusions" in sources
    assert "Codes (EXCLUSION_TYPES, extract/code_lists.py): FIXED_PERIOD, PERMANENT" in sources
    assert "#### `education__exclusions`" in (copy / "docs/feeds.md").read_text()
    assert '"EXCLUSION_TYPES": ["FIXED_PERIOD", "PERMANENT"]' in (copy / declared.CODE_LISTS_MACRO).read_text()
    assert '"education__exclusions": {' in (copy / declared.FEED_COLUMNS_MACRO).read_text()
    assert _run(copy, "-m", "extract.declared", "--check").returncode == 0

    # 4. A night's file, loaded and built.
    own = fresh_database(settings, DATABASE)
    c = own.connection
    delivered = tmp_path_factory.mktemp("landing") / "exclusions.csv"
    delivered.write_text(DELIVERED)
    try:
        ran = _run(copy, "-c", LOAD_AND_BUILD, str(delivered), str(tmp_path_factory.mktemp("dbt-target")),
                   SAFEGUARDING_WAREHOUSE_URL=f"postgresql://{c.user}:{c.password}@{c.host}:{c.port}/{c.dbname}")
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        result = json.loads(ran.stdout.strip().splitlines()[-1])
    finally:
        drop_database(settings, DATABASE)

    assert result["package"].startswith(str(copy)), "the copy's own extract/ should have run"
    assert (result["rows"], result["quarantined_rows"]) == (3, 1)  # 4 rows in: 3 loaded + 1 held back
    assert result["quarantine"] == [[5, "exclusion_type: unknown code: 'EXPELLED'"]]
    assert result["dbt"] == 0, "dbt build of the new staging model (and its tests) failed"
    assert result["staged"] == [["X1", "FIXED_PERIOD", "2026-11-04"], ["X2", "PERMANENT", None],
                                ["X3", "FIXED_PERIOD", "2026-11-10"]]
