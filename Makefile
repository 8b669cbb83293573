# Xueji: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package the app and its checks use, pinned with hashes (Python 3.11 on Linux): installs
# are the same on every machine. `make lock` writes it again from pyproject.toml.
LOCK := requirements.lock
export PYTHONPATH := src

.PHONY: install run test lint typecheck pytest bench migrate demo messages assets clean lock

# The app itself is installed without its dependencies (they come from the lock), and built with
# the lock's setuptools rather than whatever an isolated build would fetch.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The lock is written by uv (a pinned release, in a venv of its own) from PyPI alone: pyproject's
# dependencies with the dev extra, and the build system's requirements. Versions already in the
# lock are kept while they still fit; `make lock LOCK_FLAGS=--upgrade` takes the newest.
UV_VERSION := 0.13.8
LOCK_TOOLS := $(VENV)/lock-tools
LOCK_FLAGS ?=
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	| $(LOCK_TOOLS)/bin/uv pip compile pyproject.toml - --extra dev --generate-hashes \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--custom-compile-command 'make lock' --quiet $(LOCK_FLAGS) -o $(LOCK)

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
# DEMO_TWO_FACTOR=1 to try the enrolment of bureau, auditor and admin accounts (the accounts
# printed at start get an enrolment code each).
DEMO_TWO_FACTOR ?= 0

# Imports, year-end runs and large Excel exports are background jobs: the demo runs the task
# worker beside the server, and the audit trail's sealer (a signed checkpoint every minute, and
# one more when stopped), and stops both with the server.
run: demo
	XUEJI_TWO_FACTOR_REQUIRED=$(DEMO_TWO_FACTOR) $(BIN)/xueji print_demo_accounts
	$(BIN)/xueji db_worker --no-reload & worker=$$!; \
	$(BIN)/xueji audit seal --every & sealer=$$!; \
	trap 'kill $$worker $$sealer 2>/dev/null' EXIT INT TERM; \
	XUEJI_TWO_FACTOR_REQUIRED=$(DEMO_TWO_FACTOR) $(BIN)/xueji runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy src/xueji src/config

pytest: install
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var

# Two-level deployment (xueji.federation, deploy/): one node served by gunicorn (static files by
# WhiteNoise) with its task worker and its federation worker; `make cluster` starts the national
# hub and two provinces on three PostgreSQL 15 clusters of their own (var/cluster/, 127.0.0.1).
.PHONY: serve cluster cluster-down cluster-status cluster-test
serve: install
	$(BIN)/xueji collectstatic --noinput -v 0
	$(BIN)/xueji db_worker --no-reload & worker=$$!; \
	$(BIN)/xueji federation worker & federation=$$!; \
	trap 'kill $$worker $$federation 2>/dev/null' EXIT INT TERM; \
	cd src && ../$(BIN)/gunicorn -c ../deploy/gunicorn.conf.py config.wsgi

cluster: install
	$(BIN)/python deploy/cluster.py up

cluster-down:
	$(BIN)/python deploy/cluster.py down

cluster-status:
	$(BIN)/python deploy/cluster.py status

# The integration tests on the cluster: they start it afresh and stop it at the end.
cluster-test: install
	XUEJI_CLUSTER_TESTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m cluster src/xueji/federation/tests/cluster
