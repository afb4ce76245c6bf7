# Entry points for development and CI. `make` alone lists the targets.
# The local infrastructure runs without Docker (see infra/local.py); docker-compose.yml is
# the alternative for machines with Docker.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON := .venv/bin/python
INFRA := $(PYTHON) -m infra.local
RUN_ENV := .run/run/env
PYTEST_ARGS ?=
BENCH_ARGS ?=
FAULTS_ARGS ?=
# 1, or 3 for a three-node KRaft cluster (`make run KAFKA_BROKERS=3`); read by infra.local.
KAFKA_BROKERS ?= 1
export KAFKA_BROKERS
# The project's packages (shared, services, infra) import from the repo root in every tool,
# whatever directory pytest or mypy would otherwise put first on the path.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

# Loads the run profile's addresses (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL_TEMPLATE).
with_run_env = set -a && . $(RUN_ENV) && set +a &&

.PHONY: help setup run stop status test lint clean bench faults

help: ## list the targets
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
		awk -F'\t' '{ printf "  make %-10s %s\n", $$1, $$2 }'
	@echo "Variables: PYTEST_ARGS='...' is passed to pytest (make test PYTEST_ARGS='-k kafka -x')."
	@echo "           BENCH_ARGS='...' is passed to the benchmark (make bench BENCH_ARGS='--learners 2000 --instances 2')."
	@echo "           FAULTS_ARGS='...' is passed to the fault suite (make faults FAULTS_ARGS='--rows broker-restart')."
	@echo "           KAFKA_BROKERS=3 runs a three-node KRaft cluster (make run KAFKA_BROKERS=3)."

setup: ## install what is missing: Debian packages, .venv, the Kafka broker (idempotent)
	@echo "==> setup: Debian packages, .venv from requirements.lock, Kafka into .cache/kafka/lib"
	@bash scripts/setup.sh

run: setup ## start Kafka, PostgreSQL and all services (profile run), migrate, load the demo
	@echo "==> run: starting Kafka and PostgreSQL (profile run, data in .run/run)"
	@$(INFRA) start --profile run
	@echo "==> run: migrating every service's database"
	@$(with_run_env) $(PYTHON) -m infra.migrate --all
	@echo "==> run: creating the alliance's Kafka topics"
	@$(PYTHON) -m infra.topics --profile run
	@echo "==> run: starting the services"
	@DEV_IDP_ENABLED=true $(INFRA) services-start --profile run
	@echo "==> run: loading the demo data"
	@$(with_run_env) $(PYTHON) -m infra.demo
	@echo
	@echo "==> run: everything is up"
	@$(INFRA) urls --profile run
	@echo "Stop everything with: make stop"

.PHONY: demo
demo: setup ## a learner's journey through the gateway (after `make run`), into demo-output/
	@echo "==> demo: a new learner passes courses at three partners and completes a pathway"
	@$(with_run_env) $(PYTHON) -m infra.demo_journey

stop: setup ## stop the services, then Kafka and PostgreSQL (every profile)
	@echo "==> stop: services, then Kafka and PostgreSQL, of every profile"
	@$(INFRA) services-stop --profile all
	@$(INFRA) stop --profile all

# `status` exits 3 when something is down: information here, not a failure.
status: setup ## show what runs, per profile
	@$(INFRA) status --profile all || true

test: setup ## run the test suite (it starts its own infrastructure, profile test)
	@echo "==> test: pytest $(PYTEST_ARGS)"
	@.venv/bin/pytest $(PYTEST_ARGS)

lint: setup ## ruff check and mypy --strict over the whole repo
	@echo "==> lint: ruff check ."
	@.venv/bin/ruff check .
	@echo "==> lint: mypy ."
	@.venv/bin/mypy .

bench: setup ## drive simulated learners through the whole alliance on its own stack; report in bench-results/
	@echo "==> bench: python -m bench $(BENCH_ARGS) (its own Kafka, PostgreSQL and services: profile bench)"
	@$(PYTHON) -m bench $(BENCH_ARGS)

faults: setup ## inject faults (kills, outages, redelivery, rebalance) on its own stack; report in faults-results/
	@echo "==> faults: python -m faults $(FAULTS_ARGS) (its own Kafka, PostgreSQL and services: profile faults)"
	@$(PYTHON) -m faults $(FAULTS_ARGS)

clean: setup ## stop everything and delete all local data (.run)
	@echo "==> clean: stopping everything and deleting .run"
	@$(INFRA) reset --profile all
	@rm -rf .run
