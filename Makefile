# One entry point for people and CI. `make run` and `make test` work on a fresh machine
# with Python 3.11+ and make: uv is installed from PyPI if it is missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
CHROMIUM_PATH ?= $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null)
export CHROMIUM_PATH

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: uv
uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || { \
	  echo "installing uv from PyPI"; \
	  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv; }

.PHONY: setup
setup: uv ## install the locked dependencies into .venv
	@$(UV) sync --frozen --quiet

.PHONY: run
run: setup ## start every service on embedded adapters (Ctrl-C stops them)
	@$(UV) run --frozen intake run

.PHONY: lint
lint: setup ## ruff, ruff format --check, mypy
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

.PHONY: browser
browser:
	@if [ -z "$(CHROMIUM_PATH)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the browser tests"; \
	    apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "browser tests need Chromium: install it, or set CHROMIUM_PATH" >&2; exit 1; fi; \
	fi
	@# axe-core (accessibility checks) comes from npm; the app itself needs no npm.
	@[ -d services/intake-ui/node_modules/axe-core ] || npm ci --prefix services/intake-ui --no-audit --no-fund --silent

.PHONY: test
test: setup browser lint ## set up and run every test: unit, contract, integration, e2e
	$(UV) run --frozen pytest

.PHONY: bench
bench: setup ## measure throughput, latency, submit-to-email time, search and memory
	@$(UV) sync --frozen --quiet --group bench
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk (apt-get install wrk)" >&2; exit 1; }
	$(UV) run --frozen --group bench python bench/run.py

.PHONY: kind-up kind-down
kind-up: ## build the images, create a kind cluster, install the chart with the emulators (needs Docker)
	bash scripts/kind-up.sh
kind-down: ## delete the kind cluster
	kind delete cluster --name $${KIND_CLUSTER:-onboarding}

.PHONY: function-requirements
function-requirements: setup ## export functions/notify/requirements.txt from uv.lock
	$(UV) export --package intake-notify --no-dev --frozen --no-emit-workspace \
	  --format requirements-txt --no-header --quiet -o functions/notify/requirements.txt

.PHONY: fmt
fmt: setup ## format and autofix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

.PHONY: clean
clean: ## remove local data and caches (keeps .venv)
	rm -rf .data test-artifacts .pytest_cache .mypy_cache .ruff_cache
