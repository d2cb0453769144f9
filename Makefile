# slaportal: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
LOADTEST_ARGS ?=

RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run prod test lint format bench loadtest worker beat clean help

help:
	@echo "make run    set up and serve the demo at http://$(HOST):$(PORT)"
	@echo "make prod   the production stack here: gunicorn, worker, beat on PostgreSQL and Redis"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff check and format check"
	@echo "make bench  run the benchmarks"
	@echo "make loadtest  load the whole production stack (PostgreSQL and Redis)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "slaportal needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(BIN)/python
	@echo "Installing slaportal's dependencies into $(VENV)/ (about a minute the first time) ..."
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing slaportal's dependencies and test tools into $(VENV)/ (a minute or two the first time) ..."
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt
	@touch $@ $(RUN_STAMP)

# Links in the demo's emails point at the address it is served on, unless
# SITE_URL says otherwise.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: $(RUN_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "slaportal is starting at http://$(HOST):$(PORT)/ (Ctrl-C stops it)."
	@echo "Emails are written as files to var/mail/."
	@echo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production stack on this machine's PostgreSQL and Redis (scripts/prod).
prod: $(RUN_STAMP)
	HOST=$(HOST) PORT=$(PORT) scripts/prod

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/import_cycles.py
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# gunicorn, a worker, beat and an SMTP sink under a mix of users for a minute,
# with the month end half-way; needs DATABASE_URL=postgres://... and Redis.
loadtest: $(DEV_STAMP)
	$(BIN)/python benchmarks/loadtest.py $(LOADTEST_ARGS)

worker: $(RUN_STAMP)
	$(BIN)/celery -A slaportal worker --loglevel INFO

beat: $(RUN_STAMP)
	$(BIN)/celery -A slaportal beat --loglevel INFO --schedule var/celerybeat-schedule

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache .ruff_cache
