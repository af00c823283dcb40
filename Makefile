# Two commands: `make run` (local stack on 127.0.0.1:8000) and `make test` (the whole suite).
# The fast lane: `make check` (lint, format, types, unit tests; seconds), then one layer: unit, integration, api, browser.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test check lint unit integration api browser setup check-tools tokens reconcile backfill-ranks backfill-report reindex schemas bench package screenshots

run: setup
	$(PY) -m tools.devstack

test: setup lint
	$(PY) -m pytest

# Everything that needs no server: ruff (lint and layout), mypy, the pure unit tests.
check: setup lint
	$(PY) -m pytest tests/unit

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: setup
	$(PY) -m pytest tests/unit

# Repositories and workers against DynamoDB Local and the local SQS (fixtures start both).
integration: setup
	$(PY) -m pytest tests/integration

# The HTTP API in process and on a live `chalice local`, and the OpenAPI fuzzer.
api: setup
	$(PY) -m pytest tests/api tests/fuzz

# The console in Debian's Chromium.
browser: setup
	$(PY) -m pytest tests/browser

tokens: setup
	$(PY) -m tools.tokens

# AWS calls per operation, handler latency against the same raw calls, import time (a script, not a test).
bench: setup
	$(PY) -m tools.bench

# One deployable CloudFormation template plus the deployment zip in dist/$(STAGE) (docs/operations.md: Deploying).
STAGE ?= prod
package: setup
	STAGE=$(STAGE) $(PY) -m tools.package

# Retakes docs/console/*.png from the console's browser tests (they write to a temporary folder otherwise).
screenshots: setup
	LIFESHOP_SCREENSHOTS=docs/console $(PY) -m pytest -q tests/browser

# Regenerates docs/events/*.schema.json from the event models.
schemas: setup
	$(PY) -m tools.event_schemas

# Checks every user's balances against their ledgers, and design scores against their votes, in the `make run`
# database (it must be running).
reconcile: setup
	$(PY) -m tools.reconcile

# Once, on a database from before weighted votes: puts every public design in the gallery by score.
backfill-ranks: setup
	$(PY) -m tools.backfill_ranks

# Once, on a database from before the points report: counts the ledger entries the stream never delivered.
backfill-report: setup
	$(PY) -m tools.backfill_report

# Indexes every product for search again (a database from before search, or a repair); safe to repeat.
reindex: setup
	$(PY) -m tools.reindex

setup: check-tools $(STAMP) node_modules/.installed

check-tools:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo "Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=/path/to/python3.11)."; exit 1; }
	@command -v java >/dev/null || { echo "Java is missing: install Java 17 or newer (for example: apt-get install openjdk-17-jre-headless)."; exit 1; }
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js with npm (for example: apt-get install nodejs npm)."; exit 1; }
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$LIFESHOP_CHROMIUM" ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo "Installing Debian's chromium for the console's browser tests" && \
	    { apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei >/dev/null 2>&1; }; }; } || \
	  { echo "Chromium is missing (the console's browser tests drive it): install it (for example: apt-get install chromium) or set LIFESHOP_CHROMIUM to its path."; exit 1; }

$(STAMP):
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'pip>=23,<26.3'
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@
