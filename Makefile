# MomentMap: `make demo` builds and serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# requirements.lock pins what production runs (the Docker image installs it);
# requirements-dev.lock pins the same plus the test and lint tools, and is what make installs.
LOCK := requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: install messages demo serve test lint format typecheck pytest lock migrate worker clean

install: $(STAMP)

$(STAMP): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "MomentMap needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment. On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	@rm -f $(VENV)/.installed-*
	@touch $@

# The staff UI's catalogues (locale/*/LC_MESSAGES/*.po) compiled to .mo with Babel, so that
# GNU gettext is not needed; the .mo files are build output.
messages: install
	$(BIN)/python -m core.catalogues compile

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input

# Serve with demo data, as production runs: the web server, a Celery worker and beat.
# config/demo.py starts the embedded PostgreSQL and Redis once (unless DATABASE_URL and
# REDIS_URL are set), migrates, loads the demo data and runs the three; Ctrl-C stops them all.
demo: messages
	DEBUG=$${DEBUG:-true} $(BIN)/python -m config.demo --port $(PORT)

worker: messages
	DEBUG=$${DEBUG:-true} $(BIN)/celery -A config.worker worker -Q default,email,metrics --loglevel INFO

# Every check CI runs: lint, formatting, types, then the whole test suite.
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	DEBUG=true $(BIN)/mypy core accounts journeys surveys events metrics dashboards config

pytest: messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-pin every dependency (after editing pyproject.toml).
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache staticfiles
