# The two Quick start commands are `make plan` and `make test`; both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: plan test lint lab demo bench clean-venv

# Reinstall only when the project's metadata changed (or the venv is missing).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The bundled demo telemetry ends on 2026-11-22: the week after it is the one it plans without
# a staleness warning, whatever today's date.
DEMO_WEEK := 2026-W48

## plan: build the demo store if needed, run the demo week's capacity plan, print where the report is
plan: $(STAMP)
	$(BIN)/capacity plan --force --week $(DEMO_WEEK)

## test: the whole suite on every core (pytest-xdist), then the linter and the formatter's check
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal
	$(BIN)/ruff check capacity tests benchmarks
	$(BIN)/ruff format --check capacity tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff check capacity tests benchmarks
	$(BIN)/ruff format --check capacity tests benchmarks

## lab: JupyterLab on notebooks/
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## demo: regenerate the committed demo fleet in data/demo/
demo: $(STAMP)
	$(BIN)/capacity demo --out data/demo

## bench: the ingest benchmark (writes a 10M-row CSV to a temporary folder)
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean-venv:
	rm -rf $(VENV)
