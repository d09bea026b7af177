# The README's commands. `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast lint ui docs clean

setup: $(VENV)/.installed

# Exact versions from requirements.lock (regenerate with `make lock`), then the project itself.
# --compile-bytecode writes the .pyc files at install time: where PYTHONDONTWRITEBYTECODE is set
# (CI, containers) every process would otherwise recompile dagster, dbt and GX from source on
# import, about 25 s per run and per dbt invocation.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock

demo: setup
	$(BIN)/spm demo

test: lint
	$(BIN)/pytest

# Everything but the end-to-end builds (the tests that need the dbt manifest): about 3 minutes.
test-fast: setup
	$(BIN)/pytest -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ui: setup
	$(BIN)/spm ui

docs: setup
	cd dbt_project && SPM_WAREHOUSE=$${SPM_WAREHOUSE:-../data/warehouse.duckdb} ../$(BIN)/dbt docs generate --profiles-dir . --target-path target/docs

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
