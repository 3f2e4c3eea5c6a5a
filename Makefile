# drink-assistant: `make local` runs the product, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export XDG_RUNTIME_DIR ?= $(CURDIR)/.local/run

.PHONY: local test lint openapi migrate seed illustrations bench party package clean-local venv reset-admin-password frontend bundle-size e2e-deps publish-web deploy plan destroy

# The web app (frontend/): rebuilt only when its sources or dependencies change.
WEB        := frontend
WEB_DEPS   := $(WEB)/node_modules/.installed
WEB_BUILD  := $(WEB)/dist/index.html
WEB_SRC    := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
              $(addprefix $(WEB)/,index.html vite.config.ts tsconfig.json package.json)

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-pictures.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 pins pip<26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	mkdir -p .local/run
	touch $(STAMP)

## Build the web app into frontend/dist (the gateway serves it).
frontend: $(WEB_BUILD)

$(WEB_DEPS): $(WEB)/package.json $(wildcard $(WEB)/package-lock.json)
	cd $(WEB) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SRC)
	cd $(WEB) && npm run build
	touch $@

## Gzipped size of the JavaScript guests' phones load (fails over 100 KB).
bundle-size: $(WEB_BUILD)
	cd $(WEB) && npm run --silent bundle-size

## Debian's Chromium for the end-to-end tests (only when missing; needs root).
e2e-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "note: /usr/bin/chromium is missing (install Debian's chromium as root); e2e tests will be skipped"; fi

## Run the whole product locally on embedded defaults (Ctrl-C stops it).
local: $(STAMP) $(WEB_BUILD)
	$(BIN)/python local/stack.py

## Print a new random password for the local admin sign-in (the old one stops working).
reset-admin-password: $(STAMP)
	$(BIN)/python -m local.hosted_login reset-password

## Every test: lint, migration lint, web app unit tests and bundle budget, domain, API,
## packaging, and end to end in Chromium (tests/e2e, against the running local stack).
test: $(STAMP) $(WEB_BUILD) e2e-deps
	$(BIN)/ruff check .
	$(BIN)/python -m sql.lint
	cd $(WEB) && npm test --silent
	cd $(WEB) && npm run --silent bundle-size
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m sql.lint

## The contract: docs/openapi.json from app.py + chalicelib/contract.py (tools/openapi.py),
## then the web app's API types from it (frontend/src/lib/api-types.ts). Both are committed;
## tests/test_openapi.py fails when either is out of date.
openapi: $(STAMP) $(WEB_DEPS)
	$(BIN)/python -m tools.openapi
	cd $(WEB) && npm run --silent api-types

## Apply migrations / seed the menu against DATABASE_URL or DSQL_ENDPOINT.
migrate: $(STAMP)
	$(BIN)/python -m sql.migrate

seed: $(STAMP)
	$(BIN)/python -m sql.seed

## Draw every drink's illustration into MEDIA_BUCKET (AWS, after `make seed`: the seed's
## drinks never had a DrinkCreated; `make local` does this itself). docs/pictures.md
illustrations: $(STAMP)
	$(BIN)/python -c "from chalicelib import images; print(images.ensure_illustrations(), 'illustrations drawn')"

## Measured, not asserted: cold start, latency, round trips.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## A party on a fresh local stack of its own (free ports, temporary database): 60 guests,
## two orders each; per-route p50/p95 and the checks (exit 1 when one fails). PARTY_ARGS=...
party: $(STAMP)
	$(BIN)/python benchmarks/party_load.py $(PARTY_ARGS)

## The CloudFormation that `chalice deploy` would create, offline (STAGE=dev|prod), and
## the picture handler's Pillow layer beside it (pictures-layer.zip; needs PyPI, like chalice).
package: $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/chalice package --stage $(or $(STAGE),dev) --merge-template infra/api-merge.json .local/package-$(or $(STAGE),dev)
	$(BIN)/python -m infra.deploy.layer .local/package-$(or $(STAGE),dev)

## Upload frontend/dist (`make frontend` first) and the stage's /config.json to the web
## app's bucket, then invalidate the shell (STAGE=dev|prod; values: WEB_BUCKET,
## WEB_DISTRIBUTION_ID, API_URL, API_KEY_ID, AUTH_DOMAIN, AUTH_CLIENT_ID, REALTIME_HTTP_URL,
## REALTIME_WS_URL from the environment; `python -m infra.publish_web --help`).
publish-web: $(STAMP)
	$(BIN)/python -m infra.publish_web --stage $(or $(STAGE),dev)

## One command to AWS (STAGE=dev|prod; docs/deploy.md): preflight, every stack through change
## sets, migrations and seed, the admin user (ADMIN_EMAIL=... on the first deploy), the web
## app, the URLs and the join QR. Rerun it after a failure or a change.
deploy: $(STAMP) $(WEB_BUILD)
	$(BIN)/python -m infra.deploy deploy --stage $(or $(STAGE),dev)

## What deploy would create or change (change sets, never executed), and the cost.
plan: $(STAMP) $(WEB_BUILD)
	$(BIN)/python -m infra.deploy plan --stage $(or $(STAGE),dev)

## Delete what deploy created, in reverse order (asks; YES=1 does not). The DSQL database
## stays (deletion protection) unless DELETE_DATABASE=1.
destroy: $(STAMP)
	$(BIN)/python -m infra.deploy destroy --stage $(or $(STAGE),dev)

clean-local:
	rm -rf .local
