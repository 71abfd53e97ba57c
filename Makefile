# The two commands a new user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KIZUNA := $(BIN)/kizuna

.PHONY: run test lint install install-test format bench clean help

help:
	@echo "make run    install, migrate, seed demo data, build the site, serve on http://127.0.0.1:8000"
	@echo "make test   install test extras and run the whole test suite"
	@echo "make lint   ruff (lint + format check) and mypy"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Kizuna needs Python 3.11 or newer (found: $$($(PYTHON) --version)). Set PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(KIZUNA) migrate
	$(KIZUNA) demo-data
	$(KIZUNA) build
	$(KIZUNA) run

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check api pipeline tests bench
	$(BIN)/ruff format --check api pipeline tests bench
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff check --fix api pipeline tests bench
	$(BIN)/ruff format api pipeline tests bench

bench: install-test
	$(BIN)/python bench/mail_transport.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
