# Two commands: `make run` (set up and serve with demo data) and `make test` (every test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; $(PYTHON) --version) | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1:8000

.PHONY: install run serve test lint newman bench-risk bench-transactions bench-cases bench-screening worker beat migrate schema check-deploy clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## run: create .venv, install, migrate, load demo data, serve on $(HOST) (embedded default)
run: export DEBUG ?= 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	$(PY) manage.py runserver $(HOST)

## test: the whole suite (PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set)
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff, migrations in step with models, OpenAPI schema without warnings
lint: export DEBUG ?= 1
lint: install
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

## newman: seed 004's Postman collection as a real client (newman from package-lock.json): its own
## database (compliance_newman on DATABASE_URL's PostgreSQL, else a temporary SQLite file; or
## NEWMAN_DATABASE_URL), migrated fresh, gunicorn on a free port, then newman and the checks of
## tests/newman/run.py. Report under var/newman/. With REDIS_URL: Redis database 14 (NEWMAN_REDIS_URL)
newman: install node_modules/.package-lock.json
	$(PY) -m tests.newman.run --serve

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

## bench-risk: load 100,000 customers into their own PostgreSQL database and time the bulk risk
## recalculation (needs PostgreSQL; the database of BENCH_DATABASE_URL is created if missing and
## emptied, never DATABASE_URL's). BENCH_ARGS: --customers N, --chunk-size N, --seed N, --keep
bench-risk: export DEBUG ?= 1
bench-risk: export BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/compliance_bench
bench-risk: install
	$(PY) manage.py bench_risk $(BENCH_ARGS)

## bench-transactions: load 10,000 users and 1,000,000 historical transactions into their own
## PostgreSQL database (BENCH_DATABASE_URL, created if missing; kept between runs unless --reload),
## activate 10 rule instances, serve with gunicorn and post transactions over HTTP at 100/s and
## at full speed, beside the trivial POST /api/bench/ping. Uses BENCH_REDIS_URL's Redis database
## (flushed), never REDIS_URL's. BENCH_ARGS: --users N, --transactions N, --seconds N, --rate N,
## --concurrency N, --workers N, --threads N, --reload, --seed N
bench-transactions: export DEBUG ?= 1
bench-transactions: export BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/compliance_bench_tx
bench-transactions: export BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15
bench-transactions: install
	$(PY) manage.py bench_transactions $(BENCH_ARGS)

## bench-cases: load 100,000 cases and 300,000 alerts into their own PostgreSQL database
## (BENCH_DATABASE_URL, created if missing; kept between runs unless --reload) and time the case
## queue's rendering as an analyst. BENCH_ARGS: --cases N, --alerts N, --renders N, --reload, --seed N
bench-cases: export DEBUG ?= 1
bench-cases: export BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/compliance_bench_cases
bench-cases: install
	$(PY) manage.py bench_case_queue $(BENCH_ARGS)

## bench-screening: generate a 1,000,000-entry watchlist into its own PostgreSQL database
## (BENCH_DATABASE_URL, created if missing; kept between runs unless --reload), screen 1,000 names
## and the evaluation set against it, then 100,000 customers in bulk. BENCH_ARGS: --entries N,
## --names N, --customers N (0 skips them), --reload, --seed N
bench-screening: export DEBUG ?= 1
bench-screening: export BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/compliance_bench_screening
bench-screening: install
	$(PY) manage.py bench_screening $(BENCH_ARGS)

migrate: install
	$(PY) manage.py migrate --noinput

## worker / beat: the production processes (need REDIS_URL)
worker: install
	$(VENV)/bin/celery -A compliance worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A compliance beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler

serve: install
	$(PY) manage.py collectstatic --noinput
	$(VENV)/bin/gunicorn compliance.wsgi

clean:
	rm -rf $(VENV) var/*.sqlite3 staticfiles node_modules
