# Spotter — `make help` lists every target with its one-line description.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE := .ci/stage
SYSTEM_PACKAGES := redis-server postgresql chromium
PYTEST := $(BIN)/pytest
FRONTEND := frontend
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export REDOCLY_TELEMETRY := off
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: help install uv system-deps spec lint test test-service run contract bench bench-smoke screenshots soak audit clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

uv: ## Install the pinned uv if it is missing
	@command -v uv >/dev/null 2>&1 && uv --version | grep -q "$(UV_VERSION)" || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"

# Byte-code is compiled once at install (about 10 s; a no-op after): with PYTHONDONTWRITEBYTECODE
# set, every service a test starts would otherwise recompile the Anthropic SDK (about 2 s each).
install: uv ## Install everything (idempotent): .venv from uv.lock, the spec tooling, the web app
	uv sync --frozen --quiet --compile-bytecode
	cd openapi && npm install --no-audit --no-fund --loglevel=error
	@if [ -f $(FRONTEND)/package.json ]; then cd $(FRONTEND) && npm install --no-audit --no-fund --loglevel=error; fi
	cd contract-tests/clients/typescript && npm install --no-audit --no-fund --loglevel=error

system-deps: ## Install the Debian packages tests start (as root), or name them
	cd service && ../$(BIN)/python -m tests.support.system_packages $(SYSTEM_PACKAGES)

spec: install ## Validate the OpenAPI 3.2 spec and write build/openapi.yaml + build/openapi-3.1.yaml
	$(BIN)/python -m spotter.spec --out build
	cd openapi && npx redocly lint --config redocly.yaml openapi.yaml --format=summary

lint: install ## ruff, mypy --strict and the spec linters
	$(BIN)/ruff check .
	$(BIN)/mypy --strict
	$(MAKE) --no-print-directory spec

test: install system-deps ## Set up and run every test (what CI runs), printing each stage's time
	$(STAGE) lint $(MAKE) --no-print-directory lint
	$(STAGE) service-tests $(PYTEST) -q -p no:cacheprovider --durations=15
	@if [ -f $(FRONTEND)/package.json ]; then \
	  $(STAGE) frontend-typecheck npm --prefix $(FRONTEND) run --silent typecheck && \
	  $(STAGE) frontend-lint npm --prefix $(FRONTEND) run --silent lint && \
	  $(STAGE) frontend-unit npm --prefix $(FRONTEND) run --silent test && \
	  $(STAGE) frontend-e2e npm --prefix $(FRONTEND) run --silent test:e2e; \
	fi
	$(STAGE) contract $(MAKE) --no-print-directory contract
	$(STAGE) bench-smoke $(MAKE) --no-print-directory bench-smoke

run: install spec ## Start the service on :8000 and the web app on :3000 with embedded defaults
	@echo "Service: http://localhost:8000 (docs: /openapi.yaml) — web app: http://localhost:3000"
	@trap 'trap "" INT TERM; trap - EXIT; kill 0; wait; exit 0' EXIT INT TERM; \
	SPOTTER_ENV=development $(BIN)/spotter serve --host 127.0.0.1 --port 8000 & \
	if [ -f $(FRONTEND)/package.json ]; then \
	  (cd $(FRONTEND) && SPOTTER_ENV=development npm run --silent seed && SPOTTER_ENV=development npm run --silent dev -- --port 3000) & \
	fi; \
	wait

contract: install ## Fuzz the spec against the service and the proxy (SPOTTER_CONTRACT_BASE_URL to target a deployment)
	$(PYTEST) -q -p no:cacheprovider contract-tests

bench: install ## Run the benchmarks against the baseline and write docs/benchmarks.md
	$(BIN)/python -m bench.run

bench-smoke: install ## A few-second run of both benchmark servers and of bench.ab, so the benchmarks cannot rot
	$(BIN)/python -m bench.run --smoke
	$(BIN)/python -m bench.ab HEAD --concurrency 4 --rounds 1 --duration 1

screenshots: install system-deps ## Refresh docs/screenshots from the end-to-end suite in Chromium (make test keeps its own)
	SPOTTER_E2E_SCREENSHOTS=docs npm --prefix $(FRONTEND) run --silent test:e2e

soak: install ## A bounded mixed load with faults against one service: 10 min, figures printed (SPOTTER_SOAK_SECONDS, SPOTTER_SOAK_STREAMS)
	SPOTTER_SOAK=1 $(PYTEST) -q -p no:cacheprovider service/tests/reliability/test_soak.py

audit: install ## Known-vulnerability audit for the release pipeline (needs advisory databases; not in make test)
	uvx pip-audit --strict
	@if [ -f $(FRONTEND)/package.json ]; then cd $(FRONTEND) && npm audit --omit=dev; fi

clean: ## Remove build output and caches (keeps .venv and node_modules)
	rm -rf build .mypy_cache .ruff_cache .pytest_cache
