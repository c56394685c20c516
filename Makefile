# Pulse: `make demo` runs the whole pipeline on the sandbox company; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
UV := $(VENV)/tools/bin/uv
AIRFLOW_VENV := $(VENV)/airflow
SUPERSET_VENV := $(VENV)/superset
PYTHON ?= $(shell command -v python3.11 || command -v python3)

.PHONY: help
help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --- runtimes: rebuilt only when their lock file changes -----------------------------------
$(VENV)/tools/.built: requirements/tools.lock
	@echo "==> bootstrap tools (uv) from requirements/tools.lock"
	@[ -x $(VENV)/tools/bin/pip ] || $(PYTHON) -m venv $(VENV)/tools
	@$(VENV)/tools/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.lock
	@touch $@

$(AIRFLOW_VENV)/.built: requirements/airflow.lock pyproject.toml $(VENV)/tools/.built
	@scripts/build-venv.sh airflow

$(SUPERSET_VENV)/.built: requirements/superset.lock $(VENV)/tools/.built
	@scripts/build-venv.sh superset

.PHONY: tools runtimes lock
tools: $(VENV)/tools/.built
runtimes: $(AIRFLOW_VENV)/.built $(SUPERSET_VENV)/.built  ## build both runtimes from their lock files

lock: tools  ## regenerate requirements/*.lock from requirements/*.in
	@scripts/lock.sh

# --- checks ---------------------------------------------------------------------------------
.PHONY: test lint
test: runtimes  ## run the whole test suite (CI=true: no test may be skipped)
	@scripts/ensure-system-deps.sh
	@$(AIRFLOW_VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: runtimes  ## ruff
	@$(AIRFLOW_VENV)/bin/ruff check plugins dags tests

# --- benchmarks (docs/benchmarks.md) ---------------------------------------------------------
.PHONY: bench
BENCH_PLAN ?= standard
bench: runtimes  ## benchmarks -> bench/results/latest.json, docs/benchmarks.md (scale 1, ~30 min; BENCH_PLAN=full: scale 10, ~2.25 h from scratch; QUICK=1: minutes, checks the harness)
	@$(AIRFLOW_VENV)/bin/pulse bench --plan $(if $(QUICK),quick,$(BENCH_PLAN))

# --- production mode on this machine (docs/deploy.md; containers: docker-compose.yml) ---------
.PHONY: up down
up: runtimes  ## production-mode stack on local PostgreSQL + Redis (PULSE_ENV=production in .env); PROFILES=demo adds the sandbox
	@PULSE_PROFILES="$(or $(PROFILES),$(PULSE_PROFILES))" scripts/up.sh

down:  ## stop what `make up` started
	@scripts/down.sh

# --- the demo -------------------------------------------------------------------------------
.PHONY: demo stop
demo: runtimes  ## run Pulse on the sandbox company: Airflow and Superset on 127.0.0.1
	@scripts/demo.sh

stop:  ## stop what `make demo` started
	@scripts/stop.sh
