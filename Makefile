# Two commands do everything: `make run` (service + demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install run test lint unit integration reliability bench bench-quick clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run the whole service on embedded defaults and post a demo dataset
run: install
	$(BIN)/eventmart dev --demo

## lint, type-check and run every test (unit + integration)
test: lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/sqlfluff lint loaders/sql api/sql jobs/sql tests/peers/sql
	@# dbt models, rendered by dbt against a scratch database (DATABASE_URL's server, else an
	@# embedded one): once new (full builds), once built (the incremental branches)
	$(BIN)/python scripts/lint_dbt_models.py

unit: install
	$(BIN)/pytest tests/unit

## kill/restart/replay/fuzz scenarios with counts (see docs/reliability.md); not part of `test`
reliability: install
	$(BIN)/pytest -m reliability tests/reliability

## measure ingest, loader, refresh, reads and freshness (see docs/performance.md)
bench: install
	$(BIN)/python benchmark.py

bench-quick: install
	$(BIN)/python benchmark.py --quick --check

clean:
	rm -rf $(VENV) .eventmart .pytest_cache .mypy_cache .ruff_cache
