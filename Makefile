# The two commands of the README's Quickstart:
#   make demo   create .venv if needed, install the project with its demo and test extras,
#               and run the demo host (python -m example_app)
#   make test   start/install the local services the tests use, then run the whole test suite;
#               extra pytest arguments go in ARGS, e.g. make test ARGS="-k widget"
#   make widget rebuild the widget's static files from widget_assets/ (needs node)
#   make bench  the fast-path benchmarks, small sizes (docs/performance.rst has the full ones)

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
# Touched after a successful install; reinstalls when the packaging files change.
INSTALLED := $(VENV)/.installed
ARGS ?=

export CHATS_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export CHATS_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
export CHATS_TEST_CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test venv services lint clean widget bench

demo: $(INSTALLED)
	$(VENV_PYTHON) -m example_app

test: services $(INSTALLED)
	@echo "pytest $(ARGS)  (database: $$CHATS_TEST_DATABASE_URL, redis: $$CHATS_TEST_REDIS_URL)"
	@status=0; $(VENV_PYTHON) -m pytest $(ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then \
		echo "make test: FAILED: pytest collected no tests (exit 5); check ARGS=\"$(ARGS)\"" >&2; \
	fi; \
	exit $$status

venv: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml Makefile
	bash scripts/ensure-venv "$(PYTHON)" "$(VENV)"
	@# The build backend pyproject.toml names, so builds without isolation work in .venv too.
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q --upgrade pip "setuptools>=68" wheel
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q -e ".[demo,test]"
	touch $@

services:
	bash scripts/ensure-services

# Rebuild the widget's static files from widget_assets/ (minified with terser; `npm ci` fetches
# it from the npm registry the first time). The built files are committed, so nothing else needs
# node; tests/test_widget_build.py fails when they are older than their sources.
widget:
	cd widget_assets && { [ -x node_modules/.bin/terser ] || npm ci --no-audit --no-fund; }
	$(if $(wildcard $(VENV_PYTHON)),$(VENV_PYTHON),$(PYTHON)) widget_assets/build.py

# Each prints a table with the machine's load; the full sizes are in docs/performance.rst.
bench: services $(INSTALLED)
	CHATS_BENCH_REDIS_URL=$${CHATS_BENCH_REDIS_URL:-$$CHATS_TEST_REDIS_URL} $(VENV_PYTHON) -m bench.hop_latency --quick
	CHATS_BENCH_REDIS_URL=$${CHATS_BENCH_REDIS_URL:-$$CHATS_TEST_REDIS_URL} $(VENV_PYTHON) -m bench.throughput --quick
	CHATS_BENCH_REDIS_URL=$${CHATS_BENCH_REDIS_URL:-$$CHATS_TEST_REDIS_URL} $(VENV_PYTHON) -m bench.idle_sockets -n 2000 --hold 2
	CHATS_BENCH_REDIS_URL=$${CHATS_BENCH_REDIS_URL:-$$CHATS_TEST_REDIS_URL} $(VENV_PYTHON) -m bench.console_filters -n 20000 --requests 50

lint: $(INSTALLED)
	$(VENV_PYTHON) -m ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
