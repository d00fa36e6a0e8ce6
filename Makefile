# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    the nightly pipeline, end to end, on the embedded default
#   make test   the test suite
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Apache Superset in a virtualenv of its own (its pins differ from Airflow's): bi/superset/.
BI_VENV  := .venv-superset
BI_STAMP := $(BI_VENV)/.installed-stamp

.PHONY: help install install-bi lock run test stop start status clean airflow-ui psql bench bench-region dry-run bi declared

help:
	@echo "make run         generate a night's extract and run the nightly DAG once (embedded PostgreSQL + Airflow)"
	@echo "make test        run the tests (real PostgreSQL, dbt, Great Expectations and Airflow)"
	@echo "make airflow-ui  Airflow's UI on this setup (airflow standalone, http://localhost:8080)"
	@echo "make bi          Apache Superset with the partnership's dashboards (http://127.0.0.1:18580)"
	@echo "make psql        psql on the warehouse"
	@echo "make dry-run     dbt's dry run (dbt build --empty): every model, contract and test over no rows (README)"
	@echo "make bench       the extract-layer benchmark: loader vs plain COPY vs pandas.to_sql (docs/feeds.md)"
	@echo "make bench-region  the whole night at 1, 3, 11 and 33 boroughs (docs/scale.md; ARGS=--resume, --boroughs 1 3)"
	@echo "make declared    regenerate the files made from the feed declarations (extract/declared.py)"
	@echo "make lock        re-resolve the dependencies into constraints.txt (a deliberate update; then make test)"
	@echo "make status | stop | clean"

# --compile-bytecode: uv writes no .pyc files by default, and where PYTHONDONTWRITEBYTECODE is
# set (as on our CI machine) Python never caches them, so every dbt, Airflow and GX process
# would compile its imports from source: `dbt parse` 8 s instead of 5.5 s, importing Airflow
# and GX 18 s instead of 8 s (docs/operations.md, "Start-up time").
#
# constraints.txt pins every package, as Airflow's own installs are constrained: a fresh machine in
# six months installs exactly what was tested. Changing the versions is a deliberate step: `make lock`
# (after editing pyproject.toml, or to take newer releases), then `make test`, then commit both.
UV_VERSION := 0.13.9
# The styles and scripts GX Data Docs load, as npm packages pinned by their package-lock.json, served
# from the Data Docs site so it works offline (expectations/data_docs.py).
ASSETS := expectations/data_docs_assets
$(STAMP): pyproject.toml constraints.txt $(ASSETS)/package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'uv==$(UV_VERSION)'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --constraint constraints.txt -e '.[test]'
	@command -v npm >/dev/null || { echo "npm is needed for the Data Docs' styles and scripts (apt-get install npm)"; exit 1; }
	npm ci --prefix $(ASSETS) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml into constraints.txt, keeping every pin that still fits (a new dependency
# adds its own pins and moves nothing else). `make lock ARGS=--upgrade` takes the newest releases allowed.
lock:
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'; }
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --quiet $(ARGS) \
		--custom-compile-command 'make lock' -o constraints.txt

# Superset, pinned (constraints.txt: a working install's every package), and a migrated metadata
# database that `safeguarding bi` copies, so a first start is seconds, not minutes (safeguarding/bi.py).
$(BI_STAMP): bi/superset/requirements.txt bi/superset/constraints.txt bi/superset/provision.py $(STAMP)
	$(PYTHON) -m venv $(BI_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BI_VENV)/bin/python \
		-r bi/superset/requirements.txt -c bi/superset/constraints.txt
	rm -rf $(BI_VENV)/template && mkdir -p $(BI_VENV)/template
	printf 'SECRET_KEY = "template-only"\nSQLALCHEMY_DATABASE_URI = "sqlite:///%s/superset-template.db"\n' \
		"$(abspath $(BI_VENV))" > $(BI_VENV)/template/superset_config.py
	rm -f $(BI_VENV)/superset-template.db
	SUPERSET_CONFIG_PATH=$(abspath $(BI_VENV))/template/superset_config.py SUPERSET_HOME=$(abspath $(BI_VENV))/template \
		$(BI_VENV)/bin/python bi/superset/provision.py --template > $(BI_VENV)/template/provision.log 2>&1 \
		|| (tail -40 $(BI_VENV)/template/provision.log; exit 1)
	@touch $(BI_STAMP)

install-bi: $(BI_STAMP)

run: install
	$(BIN)/safeguarding run $(ARGS)

# The modules run in one process per core (pytest-xdist): a module's tests stay together in one
# process, in order, and so do modules that share a session fixture (tests/conftest.py, SAME_PROCESS).
# TEST_WORKERS=0 runs them one after another in this process.
TEST_WORKERS ?= auto
test: install install-bi
	$(BIN)/pytest -n $(TEST_WORKERS) $(ARGS)

start status stop clean psql: install
	$(BIN)/safeguarding $@

airflow-ui: install
	$(BIN)/safeguarding airflow standalone

# dbt's dry run: every model, contract and data test over no rows, in seconds. Snapshots are left
# out: over no rows they would close every open row of their history (README, "Changing a model").
dry-run: install
	$(BIN)/safeguarding start
	$(BIN)/safeguarding dbt build --empty --exclude-resource-type unit_test --exclude resource_type:snapshot $(ARGS)

bi: install install-bi
	$(BIN)/safeguarding bi $(ARGS)

# The files generated from extract/feeds.py and extract/code_lists.py: dbt sources, the code_list
# macro, docs/feeds.md (tests/test_declared_files.py fails when one is stale).
declared: install
	$(BIN)/python -m extract.declared

bench: install
	$(BIN)/python -m bench.extract_load $(ARGS)

# The night at region scale: generates the boroughs' files once (kept in /work/scale-data, or
# ARGS=--data-dir DIR), then runs every step on a fresh embedded PostgreSQL (docs/scale.md).
bench-region: install
	$(BIN)/python -m bench.region $(ARGS)
