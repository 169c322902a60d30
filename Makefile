# Quick start: `make run` serves on http://127.0.0.1:8000 (embedded SQLite); `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs: what serving needs (run, migrate, seed), and the development toolchain
# on top of it (test, bench, fuzz). Each is redone only when pyproject.toml changes.
RUNTIME := $(VENV)/.runtime-stamp
DEV := $(VENV)/.dev-stamp

.PHONY: setup setup-runtime migrate seed run test bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

# `.[dev]` holds the runtime packages too, so it brings the runtime stamp up to date.
$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUNTIME) $(DEV)

# ical.js (Thunderbird's iCalendar parser) checks the feeds in the tests.
ICALJS := tests/icaljs/node_modules/.installed-stamp
$(ICALJS): tests/icaljs/package-lock.json
	npm ci --prefix tests/icaljs --no-audit --no-fund --silent
	touch $(ICALJS)

setup: $(DEV)

setup-runtime: $(RUNTIME)

migrate: setup-runtime
	$(BIN)/timeline db upgrade

seed: migrate
	$(BIN)/timeline seed --if-empty

run: seed
	$(BIN)/timeline serve

test: setup $(ICALJS)
	$(BIN)/mypy
	$(BIN)/pytest

# A long fuzzing run (make test runs a bounded one): TIMELINE_FUZZ_EXAMPLES per operation.
fuzz: setup
	TIMELINE_FUZZ_EXAMPLES=$${TIMELINE_FUZZ_EXAMPLES:-1000} TIMELINE_FUZZ_RANDOM=1 $(BIN)/pytest tests/test_fuzz.py

bench: setup
	$(BIN)/python -m tests.benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
