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

run: demo
	$(BIN)/xueji print_demo_accounts
	$(BIN)/xueji runserver 127.0.0.1:8000

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
