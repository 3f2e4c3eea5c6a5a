# drink-assistant: `make local` runs the product, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export XDG_RUNTIME_DIR ?= $(CURDIR)/.local/run

.PHONY: local test lint migrate seed bench package clean-local venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	mkdir -p .local/run
	touch $(STAMP)

## Run the whole product locally on embedded defaults (Ctrl-C stops it).
local: $(STAMP)
	$(BIN)/python local/stack.py

## Every test: lint, migration lint, domain, API, packaging.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m sql.lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m sql.lint

## Apply migrations / seed the menu against DATABASE_URL or DSQL_ENDPOINT.
migrate: $(STAMP)
	$(BIN)/python -m sql.migrate

seed: $(STAMP)
	$(BIN)/python -m sql.seed

## Measured, not asserted: cold start, latency, round trips.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## The CloudFormation that `chalice deploy` would create, offline (STAGE=dev|prod).
package: $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/chalice package --stage $(or $(STAGE),dev) .local/package-$(or $(STAGE),dev)

clean-local:
	rm -rf .local
