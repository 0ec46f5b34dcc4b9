# Two commands: `make run` (portal with demo data, embedded: SQLite, tasks inline)
# and `make test` (the whole suite on PostgreSQL and Redis).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint format bench install lock clean

install: $(STAMP)

$(STAMP): pyproject.toml clients/python/pyproject.toml requirements.lock
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e clients/python -e '.[dev]'
	@touch $(STAMP)

# Where `make run` listens, set on the command line (shells often export HOST as the machine's name):
# `make run PORT=8001`, `make run HOST=0.0.0.0` (all interfaces). Links in mails follow (PUBLIC_BASE_URL, unless
# set); on all interfaces they name this machine as 127.0.0.1.
HOST = 127.0.0.1
PORT = 8000

# The demo's repositories are on this disk (file://): `make run` reads those and, offline, only those, unless told
# otherwise (REPOSITORY_FETCH_ALLOW, REPOSITORY_FETCH_OFFLINE=0).
run: $(STAMP)
	@case "$(HOST)" in 0.0.0.0|::|'[::]') link_host=127.0.0.1;; *:*) link_host="[$(HOST)]";; *) link_host="$(HOST)";; esac; \
	export DJANGO_DEBUG=$${DJANGO_DEBUG:-1} REPOSITORY_FETCH_ALLOW=$${REPOSITORY_FETCH_ALLOW-local} \
		REPOSITORY_FETCH_OFFLINE=$${REPOSITORY_FETCH_OFFLINE:-1} \
		PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$$link_host:$(PORT)} RUNSERVER_ADDRESS="$(HOST):$(PORT)"; \
	case "$(HOST)" in *:*) RUNSERVER_ADDRESS="[$(HOST)]:$(PORT)";; esac; \
	$(BIN)/python manage.py migrate --noinput -v 0 && \
	$(BIN)/python manage.py demo && \
	if [ -n "$$DATABASE_URL" ] && [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "PostgreSQL and Redis configured: web, the workers (one per queue) and beat at $$PUBLIC_BASE_URL (Ctrl-C stops all)"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start; \
	else \
		echo "Embedded mode (SQLite, tasks inline): $$PUBLIC_BASE_URL (Ctrl-C stops; mails: $${GOVERNANCE_DATA_DIR:-var}/mail/, links printed here)"; \
		exec $(BIN)/python manage.py runserver "$$RUNSERVER_ADDRESS"; \
	fi

# Tests read repositories on disk and from a git server on loopback (plain http): allowed here, explicitly;
# the tests of the fetch policy itself set the default.
test: $(STAMP)
	@export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		REPOSITORY_FETCH_ALLOW=$${REPOSITORY_FETCH_ALLOW-local,private,http}; \
	$(BIN)/python scripts/check_services.py && \
	DJANGO_DEBUG=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench` runs bench/import_inventory.py; `make bench BENCH=api ARGS="--blobs 1000000"` any other.
BENCH ?= import_inventory
bench: $(STAMP)
	@test -f bench/$(BENCH).py || { echo "no bench/$(BENCH).py: choose one of $$(cd bench && ls *.py | grep -v common | sed 's/\.py//' | tr '\n' ' ')"; exit 2; }
	@export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		REPOSITORY_FETCH_ALLOW=$${REPOSITORY_FETCH_ALLOW-local,private,http}; \
	$(BIN)/python scripts/check_services.py && $(BIN)/python bench/$(BENCH).py $(ARGS)

# Rewrite the exact versions after changing pyproject.toml.
lock: $(STAMP)
	@(echo "# Exact versions the project is tested with; 'make lock' rewrites this file."; \
	  $(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^dataset-') > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
