# The two commands: `make run` (demo on an embedded default) and `make test` (the whole suite on PostgreSQL
# and Redis). Everything else here supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite's services: PostgreSQL as the owner role (creates and migrates the test database; the tests
# then connect as the application role) and Redis.
TEST_ENV := DATABASE_URL=postgres://helpdesk_owner@127.0.0.1:5432/helpdesk \
	DATABASE_APP_ROLE=helpdesk_app REDIS_URL=redis://127.0.0.1:6379/15 \
	SECRET_KEY=test-secret-key DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost,testserver \
	MEDIA_ROOT=$(CURDIR)/var/test-media FAST_PASSWORD_HASHING=true PYTHONDONTWRITEBYTECODE=1

.PHONY: help install run test test-unit test-e2e lint bench-foundation clean

help:
	@echo "make run    - set up and serve the demo at http://$(HOST):$(PORT) (SQLite unless DATABASE_URL is set)"
	@echo "make test   - set up and run the whole test suite on PostgreSQL and Redis"
	@echo "make lint   - ruff"
	@echo "make bench-foundation - API and inbox benchmark on 1M tickets (see docs/benchmarks.md)"

$(STAMP): pyproject.toml constraints.txt
	@python=$$(.ci/find-python.sh) || exit 1; \
	if [ ! -x $(BIN)/python ]; then echo "Creating virtualenv with $$python"; "$$python" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker and beat beside the server."; \
		$(BIN)/celery -A helpdesk worker --beat --schedule var/celerybeat-schedule --loglevel=INFO \
			--concurrency=2 & helper=$$!; \
	else \
		$(BIN)/python manage.py routing_sweep & helper=$$!; \
		$(BIN)/python manage.py sla_sweep & helper="$$helper $$!"; \
	fi; \
	trap "kill $$helper 2>/dev/null" EXIT INT TERM; \
	echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops)"; \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

test: $(STAMP)
	@bash .ci/services.sh
	@bash .ci/browser.sh
	@mkdir -p var
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/e2e -q
	$(TEST_ENV) DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest tests/e2e -q

test-unit: $(STAMP)
	@bash .ci/services.sh
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/e2e -q

test-e2e: $(STAMP)
	@bash .ci/services.sh
	@bash .ci/browser.sh
	$(TEST_ENV) DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest tests/e2e -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench-foundation: $(STAMP)
	@bash .ci/services.sh
	bash bench/foundation/run.sh

clean:
	rm -rf var/test-media
