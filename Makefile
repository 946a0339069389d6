# chatui: `make run` starts the app, `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 3000
VENV := .venv
BIN := $(VENV)/bin
BUN_DIR := $(VENV)/bun
BUN := $(BUN_DIR)/node_modules/.bin/bun
DATA_DIR := $(or $(CHATUI_DATA_DIR),.chatui)

# Reflex builds the frontend with bun; it comes from the npm registry, not from Reflex's installer
# (which downloads from the internet). Node 20 is too old for Reflex 0.10, bun is not.
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(abspath $(BUN_DIR)/node_modules/.bin):$(PATH)

CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test install install-dev ingest-demo bun chromium clean

run: install bun ingest-demo
	@echo "chatui: starting on http://localhost:$(PORT) (the first start builds the frontend)"
	$(BIN)/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT)

test: install-dev bun chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
bun: $(BUN)
chromium: $(CHROMIUM)
ingest-demo: $(DATA_DIR)/.demo-ingested

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

$(BUN): | $(BIN)/python
	mkdir -p $(BUN_DIR)
	npm install --prefix $(BUN_DIR) --no-audit --no-fund --loglevel=error bun@1
	$(BUN) --version

# The browser tests drive Debian's Chromium (Playwright's own browser download needs the internet).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The demo knowledge base is chatui's own user docs; re-ingested (incrementally) when they change.
$(DATA_DIR)/.demo-ingested: $(wildcard docs/*.md) | $(VENV)/.installed
	$(BIN)/chatui ingest docs
	touch $@

clean:
	rm -rf $(VENV) .web $(DATA_DIR) .pytest_cache

# The benchmarks (bench/README.md): about 20 minutes, BENCH_QUICK=1 for a smaller pass. Results go to
# bench/results/; the app is copied to bench/.work, the peer frameworks go to bench/.venv-peers.
.PHONY: bench
bench: install-dev bun chromium
	$(BIN)/python -m bench
