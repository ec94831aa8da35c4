# Two commands for a newcomer: `make run` starts the whole hub locally, `make test` checks it.
# Both keep the virtual environment in .venv, so .venv/bin/fapiao is the command afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup run test lint format typecheck unit readme bench build deploy clean

help:
	@echo "make run    - set up .venv and start the local hub on http://127.0.0.1:3000"
	@echo "make test   - set up .venv, then ruff, import contracts, cfn-lint, mypy and pytest"
	@echo "make bench  - run the benchmarks under bench/ (they print figures)"
	@echo "make build  - sam build (the Lambda layer is built for arm64 with pip --platform)"

$(STAMP): pyproject.toml layers/fapiao/pyproject.toml layers/fapiao/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'layers/fapiao[local]' -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/fapiao serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/lint-imports --no-cache

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest tests/unit tests/contract -q $(PYTEST_ARGS)

test: lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

readme: setup
	$(BIN)/python -m fapiao.local.readme

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

build:
	sam build

deploy: build
	sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
