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

SOAK_SECONDS ?= 600
SOAK_RATE ?= 100

.PHONY: help setup stack-up stack-down run test test-unit test-faults soak lint schemas clean

help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed ## venv + Python deps, Kafka jars (Maven Central), redis-server (apt)
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

lint: setup ## ruff over the code and tests
	$(PY) -m ruff check stream_app tests

schemas: setup ## regenerate schemas/*.schema.json from the pydantic models
	$(PY) -m stream_app schemas export --dir schemas

clean: ## remove the venv and caches (keeps Kafka/Redis data; see deploy/local/stack.sh reset)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
