# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test test-browser test-production lint format bench bench-gunicorn backup restore

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install lint
	$(BIN)/pytest

test-browser: install
	$(BIN)/pytest -m browser

# gunicorn on PostgreSQL and Redis behind Varnish, with faults (needs all three; .ci/run
# installs varnish). The tests start their own Redis on port 6390.
PRODUCTION_DB ?= postgres://postgres@127.0.0.1:5432/newsroom
test-production: install
	DATABASE_URL=$(PRODUCTION_DB) REDIS_URL=redis://127.0.0.1:6390/0 $(BIN)/pytest -m production -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python manage.py benchmark

# Through gunicorn on DATABASE_URL and REDIS_URL, loaded by wrk (apt-get install wrk).
bench-gunicorn: install
	$(BIN)/python manage.py benchmark --gunicorn

# One archive of the database and media files (prints its path); restore it into the
# empty database of DATABASE_URL and the empty MEDIA_ROOT: make restore BACKUP=<file>.
backup: install
	@$(BIN)/python manage.py backup

restore: install
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=<archive.tar>"; exit 2; }
	$(BIN)/python manage.py restore "$(BACKUP)"
