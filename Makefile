# Herald: the team's vocabulary. Every target bootstraps its own .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# npm ci writes this file last: node_modules holds the CDK CLI pinned by package-lock.json.
NODE_STAMP := node_modules/.package-lock.json
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Extra arguments for the CDK CLI, e.g. CDK_ARGS="-c herald:stage=prod".
CDK_ARGS ?=

.PHONY: help install console run test unit e2e infra-tests browser-tests screenshots lint format policies bench soak fuzz synth deploy diff destroy clean

help:
	@echo "make run    - start Herald on the embedded local runtime (moto on 127.0.0.1, no AWS)"
	@echo "make test   - install what is needed and run every test"
	@echo "make lint   - ruff check + format check"
	@echo "make policies - copy the packaged target policy templates to policies/ (their source is the package)"
	@echo "make bench  - benchmarks (numbers, not pass/fail)"
	@echo "make fuzz   - schemathesis against a local herald dev (FUZZ_EXAMPLES=100)"
	@echo "make soak   - the fault suite at full size (HERALD_SOAK=1)"
	@echo "make console - build the web console (npm ci + vite; needs Node 20+)"
	@echo "make synth  - npx aws-cdk synth into cdk.out (CDK_ARGS='-c herald:stage=prod'), as deploy would"
	@echo "make deploy - npx aws-cdk deploy (CDK_ARGS='-c herald:stage=prod'); also diff, destroy"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Everything the next command needs: the venv, the pinned CDK CLI and the built console.
install: $(STAMP) $(NODE_STAMP) console

# The CDK CLI at the version package.json pins (`npx aws-cdk` then runs it, never a download).
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: Herald needs Node 20+ and npm (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The web console (console/): built into the package (functions/herald/console_static/, not
# committed), which the API serves at /console. npm ci runs when the lock file changes, the build
# when a source does.
CONSOLE_BUILT := functions/herald/console_static/index.html
CONSOLE_DEPS := console/node_modules/.package-lock.json
CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.ts \
	console/tsconfig.json console/package.json console/package-lock.json

$(CONSOLE_DEPS): console/package-lock.json
	@command -v npm >/dev/null || { echo "make: the console needs Node 20+ and npm (apt-get install nodejs npm)"; exit 1; }
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $(CONSOLE_DEPS)

$(CONSOLE_BUILT): $(CONSOLE_DEPS) $(CONSOLE_SOURCES)
	cd console && npm run --silent build
	touch $(CONSOLE_BUILT)

console: $(CONSOLE_BUILT)

run: install
	$(VENV)/bin/herald dev

# tests/infra runs `npx aws-cdk synth` as docs/deploy.md tells a user to: it needs node_modules.
test: lint
	$(PY) -m pytest -n 2 --dist loadgroup

unit: install
	$(PY) -m pytest tests/unit

e2e: install
	$(PY) -m pytest tests/e2e

browser-tests: install
	$(PY) -m pytest tests/browser

# Retake the README's console screenshots (docs/console/*.png) with the browser tests.
screenshots: install
	HERALD_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/browser

infra-tests: install
	$(PY) -m pytest tests/infra

# Style (ruff), types (mypy, settings in pyproject.toml) and the package's layers (import-linter).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The fault suite at full size (e.g. 1000 events x 10 subscriptions through herald dev).
soak: install
	HERALD_SOAK=1 $(PY) -m pytest -n 2 --dist loadgroup tests/faults

# The target templates' source is the package (`herald policy` reads them from a wheel too);
# policies/ holds a copy beside the other templates, for users (tests/unit/test_policy.py checks it).
policies:
	cp functions/herald/policy_templates/target-*.json policies/

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# schemathesis against a fresh `herald dev`: no request may make the API answer 5xx or break its spec,
# operations alone and, in the stateful phase, chained along the spec's links (create → get,
# update, delete of the created resource).
# Known false positive of schemathesis 4.32.5 (fixed upstream by schemathesis/schemathesis#4662): ST201
# "schema-violating request accepted" for a request with a valid X-API-Key and a malformed
# Authorization header. The two are alternative credentials; with X-API-Key present the API
# authenticates by it and ignores Authorization (a proxy's or SigV4's may be there). Once found,
# schemathesis replays it from .hypothesis/ on every run: remove that directory to start afresh.
FUZZ_PORT ?= 8765
FUZZ_MOTO_PORT ?= 5765
FUZZ_EXAMPLES ?= 100

fuzz: install
	@set -u; dir=$$(mktemp -d); key=fuzz-$$(date +%s)-$$RANDOM; \
	( cd $$dir && HERALD_API_KEY=$$key exec $(CURDIR)/$(VENV)/bin/herald dev --port $(FUZZ_PORT) \
	    --moto-port $(FUZZ_MOTO_PORT) --retry-schedule 0 > $$dir/herald-dev.log 2>&1 ) & pid=$$!; \
	trap 'kill -INT $$pid 2>/dev/null; wait $$pid; rm -rf $$dir' EXIT; \
	$(VENV)/bin/schemathesis run http://127.0.0.1:$(FUZZ_PORT)/openapi.json --wait-for-schema 60 \
	  --header "X-API-Key: $$key" --checks all --exclude-checks positive_data_acceptance \
	  --phases examples,coverage,fuzzing,stateful \
	  --max-examples $(FUZZ_EXAMPLES) --workers 2 --no-color

synth: install
	source $(VENV)/bin/activate && npx aws-cdk synth $(CDK_ARGS)

deploy: install
	source $(VENV)/bin/activate && npx aws-cdk deploy $(CDK_ARGS)

diff: install
	source $(VENV)/bin/activate && npx aws-cdk diff $(CDK_ARGS)

destroy: install
	source $(VENV)/bin/activate && npx aws-cdk destroy $(CDK_ARGS)

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache .hypothesis
