# Herald: the team's vocabulary. Every target bootstraps its own .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Extra arguments for the CDK CLI, e.g. CDK_ARGS="-c herald:stage=prod".
CDK_ARGS ?=

.PHONY: help install run test unit e2e infra-tests lint format bench synth deploy diff destroy clean

help:
	@echo "make run    - start Herald on the embedded local runtime (moto on 127.0.0.1, no AWS)"
	@echo "make test   - install what is needed and run every test"
	@echo "make lint   - ruff check + format check"
	@echo "make bench  - benchmarks (numbers, not pass/fail)"
	@echo "make synth  - synthesize the CDK app into cdk.out"
	@echo "make deploy - npx aws-cdk deploy (CDK_ARGS='-c herald:stage=prod'); also diff, destroy"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/herald dev

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n 2 --dist loadgroup

unit: install
	$(PY) -m pytest tests/unit

e2e: install
	$(PY) -m pytest tests/e2e

infra-tests: install
	$(PY) -m pytest tests/infra

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

synth: install
	$(PY) app.py

deploy: install
	source $(VENV)/bin/activate && npx --yes aws-cdk deploy $(CDK_ARGS)

diff: install
	source $(VENV)/bin/activate && npx --yes aws-cdk diff $(CDK_ARGS)

destroy: install
	source $(VENV)/bin/activate && npx --yes aws-cdk destroy $(CDK_ARGS)

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache .hypothesis
