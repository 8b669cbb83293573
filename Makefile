# Xueji: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := src

.PHONY: install run test lint typecheck pytest bench migrate demo messages assets clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) messages assets

messages: $(STAMP)
	$(BIN)/python -m xueji.core.compile_messages

assets: $(STAMP)
	$(BIN)/python -m xueji.core.build_assets

migrate: install
	$(BIN)/xueji migrate --noinput

demo: migrate
	$(BIN)/xueji load_demo
	$(BIN)/xueji changes demo

# The demo server asks no second factor, so that every demo account opens at once; set
# DEMO_TWO_FACTOR=1 to try the enrolment of bureau, auditor and admin accounts.
DEMO_TWO_FACTOR ?= 0

# Imports, year-end runs and large Excel exports are background jobs: the demo runs the task
# worker beside the server, and stops it with the server.
run: demo
	$(BIN)/xueji print_demo_accounts
	$(BIN)/xueji db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	XUEJI_TWO_FACTOR_REQUIRED=$(DEMO_TWO_FACTOR) $(BIN)/xueji runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench

typecheck: $(STAMP)
	$(BIN)/mypy src/xueji src/config

pytest: install
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
