# healthstream: every command a developer, CI or an SRE needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

KAFKA_BOOTSTRAP ?= localhost:9092
REDIS_URL ?= redis://localhost:6379/0
export KAFKA_BOOTSTRAP REDIS_URL
export HS_KAFKA_BOOTSTRAP ?= $(KAFKA_BOOTSTRAP)
export HS_REDIS_URL ?= $(REDIS_URL)

PYTEST_ARGS ?=
QUIX_VENV := .venv-quix

SOAK_SECONDS ?= 600
SOAK_RATE ?= 100

.PHONY: alert-quality help setup stack-up stack-down run test test-unit test-faults soak \
	check-deploy lint schemas clean bench bench-core

help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed ## venv + Python deps, Kafka jars (Maven), redis-server, prometheus (apt), CRD validator (npm)
	deploy/local/setup.sh

stack-up: setup ## start the local Kafka (KRaft) broker and Redis; idempotent
	deploy/local/stack.sh up

stack-down: ## stop the local broker and Redis (data is kept in .local/)
	deploy/local/stack.sh down

run: stack-up ## the demo: topics, a worker and synthetic traffic; Ctrl-C stops it all
	deploy/local/run.sh

test: stack-up ## the whole suite: unit, integration and fault tests on the real broker and Redis
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup ## unit tests only (no broker needed)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-faults: setup ## fault-injection suite only, on its own private Kafka and Redis
	$(PY) -m pytest tests/faults $(PYTEST_ARGS)

soak: setup ## 10-minute soak at a fixed rate (SOAK_SECONDS, SOAK_RATE); reports lag and RSS slope
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) $(PY) -m pytest tests/faults/test_soak.py -k soak_at $(PYTEST_ARGS)

check-deploy: setup ## validate Dockerfile, compose, k8s, Prometheus rules and dashboard (no broker needed)
	$(PY) -m pytest tests/deploy $(PYTEST_ARGS)

lint: setup ## ruff over the code, tests and benchmark
	$(PY) -m ruff check stream_app tests bench

QUALITY_ACCOUNTS ?= 2000
QUALITY_DAYS ?= 70
QUALITY_SEED ?= 23
# chance per user-day of starting a 5-10-day holiday; 0.0143 keeps users away ~10 % of days
QUALITY_HOLIDAYS ?= 0
QUALITY_DIR := .local/quality
alert-quality: $(VENV)/.installed ## NSM alert recall, false alerts, delay on a seeded cohort (no broker)
	mkdir -p $(QUALITY_DIR)
	$(PY) -m stream_app cohort $(QUALITY_DIR)/cohort.jsonl --accounts $(QUALITY_ACCOUNTS) \
		--days $(QUALITY_DAYS) --seed $(QUALITY_SEED) --holidays $(QUALITY_HOLIDAYS) \
		--truth $(QUALITY_DIR)/truth.json
	$(PY) -m stream_app backtest $(QUALITY_DIR)/cohort.jsonl --output $(QUALITY_DIR)/out.jsonl
	$(PY) -m stream_app alert-quality $(QUALITY_DIR)/out.jsonl --truth $(QUALITY_DIR)/truth.json

schemas: setup ## regenerate schemas/*.schema.json from the pydantic models
	$(PY) -m stream_app schemas export --dir schemas

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $@

# Its own venv: see [dependency-groups] in pyproject.toml for why.
$(QUIX_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(QUIX_VENV)
	$(QUIX_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(QUIX_VENV)/bin/python -m pip install --quiet --group bench-quix
	@touch $@

bench: stack-up $(VENV)/.bench-installed $(QUIX_VENV)/.installed ## engine vs raw aiokafka, naive Faust, Quix (BENCH_QUICK=1: minutes)
	$(PY) -m bench run

bench-core: $(VENV)/.bench-installed ## in-process micro-benchmark of the engine core (CPU time per event/score)
	$(PY) -m bench.core

clean: ## remove the venvs and caches (keeps Kafka/Redis data; see deploy/local/stack.sh reset)
	rm -rf $(VENV) $(QUIX_VENV) .pytest_cache .ruff_cache .hypothesis tests/deploy/node/node_modules
