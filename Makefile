# The single entry point: `make run` and `make test` set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= $(or $(RELIABILITY_DB),data/reliability.duckdb)
PORT ?= 8501

.PHONY: run test lint typecheck format bench screenshots demo clean

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev: requirements.txt requirements-dev.txt $(BIN)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(DB): | $(BIN)/.runtime
	RELIABILITY_DB=$(DB) $(BIN)/python -m reliability demo

demo: $(BIN)/.runtime
	RELIABILITY_DB=$(DB) $(BIN)/python -m reliability demo

run: $(BIN)/.runtime $(DB)
	RELIABILITY_DB=$(DB) $(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

test: $(BIN)/.dev
	$(BIN)/python -m pytest

lint: $(BIN)/.dev typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.dev
	$(BIN)/mypy reliability

format: $(BIN)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.dev
	$(BIN)/python -m benchmarks

screenshots: $(BIN)/.dev
	$(BIN)/python -m tests.e2e.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache
