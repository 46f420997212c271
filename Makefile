# Two commands on a fresh machine: `make run` and `make test` (README, "Quick start").
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two stamps: `make run` needs only the runtime requirements; tests and linters add the rest.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# The address to print: a server on every interface is still opened at 127.0.0.1.
URL := http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: run test test-slow test-e2e lint bench install migrate clean

define make_venv
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
endef

$(RUN_STAMP): requirements.txt
	$(make_venv)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(RUN_STAMP)

# requirements-dev.txt includes requirements.txt, so this satisfies `make run` too.
$(STAMP): requirements.txt requirements-dev.txt
	$(make_venv)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP) $(RUN_STAMP)

install: $(STAMP)

migrate: $(RUN_STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput

# A development server with demo data; the demo logins are printed before it starts.
# HOST and PORT choose where it listens: make run PORT=8080
run: migrate
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo --url $(URL)
	@echo "Open $(URL)/ and sign in with a login above."
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite except the browser tests (`make test-e2e`) and the heavy measurements
# (`make test-slow`, which CI runs once); then the example host (tests/example_host:
# apikeys alone in a project of its own), with its own settings and pytest.ini.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -c tests/example_host/pytest.ini tests/example_host $(HOST_PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Browser tests: Playwright driving Debian's Chromium (apt-get install -y chromium).
test-e2e: $(STAMP)
	@test -x /usr/bin/chromium || { echo "Chromium is missing: apt-get install -y chromium" >&2; exit 1; }
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy apikeys api nunu_admin

# Not a test: gunicorn + wrk over a fresh database, ratios side by side (bench/run.py).
# Smoke run: make bench BENCH_ARGS=--quick; PostgreSQL: BENCH_ARGS="--database-url postgres://…"
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles artifacts .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
