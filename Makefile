# Innovation-kun: `make run` starts the assistant's API, `make test` runs every test.
# Both install what they need on a fresh machine; downloads and the virtualenv are
# cached outside the repository (IK_CACHE_DIR), so reruns take seconds.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

IK_CACHE_DIR ?= $(HOME)/.cache/innovation-kun
# The real interpreter, not a pyenv shim: uv rebuilds the venv when the path it is given changes.
PYTHON ?= $(shell p=$$(command -v python3.11 || command -v python3) && $$p -c 'import sys; print(sys.executable)')
UV_VERSION := 0.13.8
BOOTSTRAP := $(IK_CACHE_DIR)/bootstrap
UV := $(BOOTSTRAP)/bin/uv
VENV := $(IK_CACHE_DIR)/venv
PY := $(VENV)/bin/python

export UV_CACHE_DIR := $(IK_CACHE_DIR)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

PYTEST_ARGS ?=

# Research-only datasets (RentTheRunway, ANSUR II, ...) are never in the repository. They sit in
# shared/datasets beside the checkout; a clone made elsewhere on the same machine finds them at
# /work/shared. Tests and training that need them skip or stop, saying where they looked, without them.
IK_RESEARCH_DATA_DIR ?= $(firstword $(realpath $(CURDIR)/../shared/datasets /work/shared/datasets))
ifneq ($(IK_RESEARCH_DATA_DIR),)
export IK_RESEARCH_DATA_DIR
endif

.PHONY: help run install install-dev system-packages browser web helm test check lint typecheck unit sizing-model recommend-models wardrobe-model services-up services-down services-status clean

help:
	@echo "make run            install and start the API on http://127.0.0.1:8000 (embedded stores)"
	@echo "make test           install, start PostgreSQL/Redis/S3, lint, type-check and run every test"
	@echo "make unit           only the tests that need no server and no browser"
	@echo "make web            build the web app (web/dist), which the API serves at /"
	@echo "make helm           install helm (cached) for the chart tests in tests/deploy"
	@echo "make services-up    start the local servers (deploy/local/services.sh)"
	@echo "make services-down  stop them"

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV) system-packages
	$(UV) sync --frozen --inexact --extra local-llm --python $(PYTHON)

install-dev: $(UV) system-packages
	$(UV) sync --frozen --extra dev --extra local-llm --extra diffusion --python $(PYTHON)

# Debian packages the app itself uses: a CJK font, so Chinese text on outfit boards is drawn
# rather than shown as empty boxes; espeak-ng, the embedded voice for spoken replies; flite, whose
# voices record the spoken test utterances (`python -m evals voice`). Installed only when missing,
# and only as root.
DEBIAN_PACKAGES := fonts-wqy-microhei espeak-ng flite
system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "note: install $$missing (apt): Chinese text on outfit images, spoken replies, voice evaluation"; fi; \
	fi

# The web app (React + TypeScript, Vite) built into web/dist, which the API serves at /. Rebuilt only
# when its sources change; npm keeps its download cache in ~/.npm, outside the repository. Vite 7
# needs Node.js 20.19 or newer (Debian bookworm's own nodejs is 18: install a newer one first).
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json web/package-lock.json web/tsconfig.json web/vite.config.ts
web: web/dist/index.html
web/dist/index.html: $(WEB_SOURCES)
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js >= 20.19 is needed to build the web app, found "+process.versions.node); process.exit(1) }'
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

# The browser tests drive Debian's Chromium (headless) through Playwright; no browser is downloaded.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "note: install chromium (apt) for the browser tests"; exit 1; fi; \
	fi

# Helm, to lint and render deploy/helm (tests/deploy/test_helm.py): built once from the Go module
# proxy into the cache folder (needs Go; ~4 minutes the first time, then nothing).
HELM_VERSION := v3.22.0
HELM := $(IK_CACHE_DIR)/bin/helm
helm: $(HELM)
$(HELM):
	@command -v go >/dev/null || { echo "Go is needed to build helm $(HELM_VERSION) (or put a helm binary at $(HELM))"; exit 1; }
	mkdir -p $(IK_CACHE_DIR)/bin
	cd /tmp && GOBIN=$(IK_CACHE_DIR)/bin GOFLAGS=-mod=mod go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# The settings fail closed (production) unless told otherwise; this is the development command.
# The embedded LLM (SmolLM2 through llama.cpp) starts as a child process; IK_LLM__PROVIDER=none
# gives template replies only, IK_LLM__PROVIDER=openai + IK_LLM__BASE_URL uses a vLLM server.
run: install web sizing-model recommend-models wardrobe-model
	IK_ENVIRONMENT=$${IK_ENVIRONMENT:-development} IK_LLM__PROVIDER=$${IK_LLM__PROVIDER:-embedded} $(PY) -m api

# The fit model is derived from research-only data (RentTheRunway), so it is trained here, not shipped:
# about a minute the first time, then nothing while a model of the current version exists.
sizing-model: install
	$(PY) -m tools.sizing train --if-missing

# Recommendation's GOES_WITH table (Polyvore) and ranker (RentTheRunway), likewise built here: about
# two minutes the first time. `python -m tools.recommend train-compat` adds the compatibility model.
recommend-models: install
	$(PY) -m tools.recommend train --if-missing

# The wardrobe's image category model, trained on the shipped catalogue thumbnails: ~a minute the first time.
wardrobe-model: install
	$(PY) -m tools.wardrobe train-classifier --if-missing

services-up:
	deploy/local/services.sh up

services-down:
	deploy/local/services.sh down

services-status:
	deploy/local/services.sh status

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy .

unit: install-dev helm
	$(PY) -m pytest -m "not integration and not e2e" $(PYTEST_ARGS)

# The whole suite against real servers: a missing server fails the run instead of skipping tests.
test: install-dev web browser helm services-up lint typecheck
	eval "$$(deploy/local/services.sh env)"; \
	IK_TEST_REQUIRE_SERVICES=1 $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache .hypothesis web/dist
