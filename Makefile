# DCC: `make run` to try it, `make test` to check it. `make` alone lists the targets.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dcc-installed
PGHOST ?= 127.0.0.1
PG_ADMIN_URL := postgresql://postgres@$(PGHOST):5432/postgres
PG_TEST_URL := postgres://postgres@$(PGHOST):5432/dcc
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help venv run test test-deps query-counts lint fmt messages bench prod-up prod-down clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install DCC with its test tools (again when pyproject.toml changes)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

run: venv ## Serve DCC with demo data at http://127.0.0.1:8000/ (HOST=, PORT= to change)
	$(BIN)/dcc serve --demo --host $(HOST) --port $(PORT)

test: venv test-deps ## Run the whole suite on SQLite, then on PostgreSQL if it answers (REQUIRE_POSTGRES=1: must)
	env -u DATABASE_URL $(BIN)/pytest -n auto
	@if err=$$($(BIN)/python -c 'import psycopg; psycopg.connect("$(PG_ADMIN_URL)", connect_timeout=3).close()' 2>&1); then \
		echo "== again on PostgreSQL at $(PGHOST):5432"; \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n auto; \
	elif [ "$(REQUIRE_POSTGRES)" = 1 ]; then \
		echo "ERROR: REQUIRE_POSTGRES=1 but PostgreSQL does not answer at $(PGHOST):5432:" >&2; \
		echo "$$err" | tail -n 2 >&2; exit 1; \
	else \
		echo "== PostgreSQL does not answer at $(PGHOST):5432: suite ran on SQLite only"; \
	fi

query-counts: venv ## Rewrite the query-count baselines (tests/*/query_counts.json) on SQLite, then on PostgreSQL if it answers
	env -u DATABASE_URL DCC_UPDATE_QUERY_COUNTS=1 $(BIN)/pytest -q tests -k query_counts
	@if $(BIN)/python -c 'import psycopg; psycopg.connect("$(PG_ADMIN_URL)", connect_timeout=3).close()' 2>/dev/null; then \
		DATABASE_URL=$(PG_TEST_URL) DCC_UPDATE_QUERY_COUNTS=1 $(BIN)/pytest -q tests -k query_counts; \
	else \
		echo "== PostgreSQL does not answer at $(PGHOST):5432: its figures are unchanged"; \
	fi

test-deps: venv ## Install what the browser and translation tests need (Debian chromium, CJK fonts, gettext), if missing and we are root
	@pkgs=""; \
	[ -x /usr/bin/chromium ] || pkgs="$$pkgs chromium"; \
	[ -d /usr/share/fonts/opentype/noto ] || pkgs="$$pkgs fonts-noto-cjk"; \
	command -v xgettext >/dev/null || pkgs="$$pkgs gettext"; \
	if [ -n "$$pkgs" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "== installing$$pkgs for the browser and translation tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$pkgs >/dev/null; \
	fi

lint: venv ## Check style (ruff check, ruff format --check) and that imports point down (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: venv ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: venv test-deps ## Extract UI strings into locale/, keep English, compile; then translate what is new in zh_Hans
	$(BIN)/python tools/i18n.py

bench: venv ## Run each bench/*.py (installs the bench extra: DuckDB for bench/kpi.py)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@set -e; for f in bench/*.py; do \
		[ -e "$$f" ] || { echo "no benchmarks in bench/"; break; }; \
		echo "== $$f"; DJANGO_SETTINGS_MODULE=dcc.settings $(BIN)/python "$$f"; \
	done

prod-up: venv ## Start the production topology on loopback: PostgreSQL db dcc_prod, Redis, gunicorn, workers, tick (DEMO=1: demo data)
	$(BIN)/python -m pip install -q -e '.[test,redis]'
	$(BIN)/python tools/prod.py up

prod-down: ## Stop exactly what prod-up started (by the pid files in var/prod/)
	$(BIN)/python tools/prod.py down

clean: ## Remove caches, build files and collected static files (keeps .venv and the var/ database)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf build *.egg-info .pytest_cache .ruff_cache .hypothesis var/static
