# Two commands for a newcomer: `make run` starts the whole hub locally, `make test` checks it.
# Both keep the virtual environment in .venv, so .venv/bin/fapiao is the command afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup fonts browser run test lint format typecheck unit readme bench build deploy clean

help:
	@echo "make run    - set up .venv and start the local hub on http://127.0.0.1:3000"
	@echo "make test   - set up .venv, then ruff, import contracts, cfn-lint, mypy and pytest"
	@echo "make bench  - run the benchmarks under bench/ (they print figures)"
	@echo "make build  - build the Lambda packages (arm64) and print each function's size"
	@echo "make deploy - make build, then sam deploy --guided (needs the AWS SAM CLI)"

$(STAMP): pyproject.toml layers/fapiao/pyproject.toml layers/fapiao/requirements.txt \
		layers/ocr/requirements.txt layers/ocr/requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'layers/fapiao[local]' -e '.[dev]'
	$(BIN)/python -m pip install --quiet -r layers/ocr/requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r layers/ocr/requirements-nodeps.txt
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

# Fonts that tests render invoices with (Debian's Noto CJK); installed when missing and
# apt-get can (CI runs as root), else the command to run is printed.
fonts:
	@fc-list :lang=zh family | grep -q "Noto Sans CJK" || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null; \
		else echo "install Noto CJK fonts: sudo apt-get install fonts-noto-cjk" >&2; exit 1; fi; }

# What the review console's browser tests (tests/browser) run: Debian's Chromium, which
# Playwright drives by its path (it downloads no browser of its own), installed when
# missing and apt-get can (CI runs as root), else the command to run is printed; and
# axe-core from npm, pinned by tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js

browser: setup $(AXE)
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "install Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

# Two processes per core count (pytest-xdist), a test module per process; then, with
# nothing beside them, the tests that measure the hub under load or across restarts.
test: lint typecheck fonts browser
	$(BIN)/pytest -n auto --dist loadfile -m "not alone" $(PYTEST_ARGS)
	$(BIN)/pytest -m alone $(PYTEST_ARGS) || [ $$? = 5 ]  # 5: PYTEST_ARGS chose none of them

readme: setup
	$(BIN)/python -m fapiao.local.readme

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The Lambda packages under .aws-sam/build, and each function's unzipped size (code and
# layers) against Lambda's 250 MB: fails when one is over. `sam build` builds them when
# the sam CLI is installed, fapiao.local.build otherwise (same layout, same Makefiles).
# The layer's bytecode needs the runtime's Python (python3.12): on PATH, or in SAM's
# build image with SAM_BUILD_FLAGS=--use-container.
SAM_BUILD_FLAGS ?=
build: setup
	@if command -v sam >/dev/null; then \
		sam build $(SAM_BUILD_FLAGS) && $(BIN)/python -m fapiao.local.build --measure-only; \
	else $(BIN)/python -m fapiao.local.build; fi

deploy:
	@command -v sam >/dev/null || { echo "make deploy needs the AWS SAM CLI (sam)" >&2; exit 1; }
	$(MAKE) build
	sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
