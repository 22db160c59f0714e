# devskyy: `make help` lists the targets. Needs only Python 3.11+ and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# torch for the embeddings extra, pinned in the same pip command: the CPU build (a 183 MB wheel
# where one lies on disk, as on our machines) rather than a multi-GB CUDA build.
TORCH ?= torch==2.13.0
# `make test` runs the suite in this many processes (pytest-xdist), each on its own test database
# (tests/xdist_scheduling.py says how they share it). Not more by default: one test holds 51
# connections at once and the embedded PostgreSQL allows 100, and each process loads the
# embedding model (up to 1.5 GB each). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

.PHONY: help install browser run test lint format migrate bench bench-admin db-start db-stop db-status clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml clients/langgraph/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "devskyy needs Python 3.11+; set PYTHON=python3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,embeddings]' -e ./clients/langgraph '$(TORCH)'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

# The browser tests (tests/browser/) drive Debian's Chromium through Playwright: installed here
# from the distribution's packages, never by `playwright install` (nothing is downloaded at test
# time). apt-get needs root: sudo is used when it is there.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "The browser tests need $(CHROMIUM): install Chromium (Debian: apt-get install chromium)" >&2; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "The browser tests need $(CHROMIUM): run 'apt-get install chromium' as root" >&2; exit 1; fi; \
	set -x; $$sudo apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

browser: $(CHROMIUM) ## Install Debian's Chromium for the browser tests (apt-get, as root or with sudo)

run: $(STAMP) ## Start the embedded database, migrate, create a demo operator, serve on 127.0.0.1:8000
	$(PY) manage.py migrate --no-input
	$(PY) manage.py ensure_demo_operator --url http://$(HOST):$(PORT)/admin/
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP) $(CHROMIUM) lint ## Lint, check migrations, run the whole suite against real PostgreSQL, in parallel
	DJANGO_SETTINGS_MODULE=devskyy.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(STAMP) ## Benchmarks: tool-executions vs the seed's FastAPI stack, the job queue, the knowledge base, LangGraph checkpoints (~17 min; see bench/)
	bash bench/run.sh

bench-admin: $(STAMP) ## Server time of every admin page on the current database (fill it first: manage.py seed_sample_data --scale 1)
	$(PY) bench/admin_pages.py $(BENCH_ADMIN_ARGS)

migrate: $(STAMP) ## Apply migrations
	$(PY) manage.py migrate

db-start: $(STAMP) ## Start the embedded PostgreSQL (DATABASE_URL unset)
	$(PY) -m devskyy.embedded_db start

db-stop: $(STAMP) ## Stop the embedded PostgreSQL
	$(PY) -m devskyy.embedded_db stop

db-status: $(STAMP) ## Is the embedded PostgreSQL running?
	$(PY) -m devskyy.embedded_db status

clean: db-stop ## Stop the database and remove .venv and .devskyy (all local data!)
	rm -rf $(VENV) .devskyy .pytest_cache .mypy_cache .ruff_cache
