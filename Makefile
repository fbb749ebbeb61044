# IRL — the front door. `make run` serves the demo city; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/irl
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/irl_test
WORKERS ?= 4
# Rate-limit counters shared by every worker: a local Redis when one answers. `make run`
# starts (or installs) it when it does not and never runs without it; `make test` may count
# in memory (one process).
REDIS_URL ?= $(shell redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo redis://127.0.0.1:6379/0)
SECRET := .secrets/jwt_secret
LOCATION_SECRET_FILE := .secrets/location_secret
export DATABASE_URL TEST_DATABASE_URL REDIS_URL

.PHONY: run test test-fast test-unit lint format migrate seed db bench wrk clean browser fuzz tune-db \
	citus test-citus

$(BIN)/activate: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $(BIN)/activate

# The owner dashboard's chart library, from the npm registry (served locally, no CDN).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Debian's Chromium for the dashboard's end-to-end test (installed when running as root).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is missing: the dashboard test will be skipped (apt-get install chromium)"

# Written before the JWT key (order-only), so a new deployment gets a random key of its own.
$(SECRET): | $(LOCATION_SECRET_FILE)
	mkdir -p .secrets && chmod 700 .secrets
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $(SECRET)
	chmod 600 $(SECRET)

# The key of each user's grid offset (approximate sharing), written once: rotating the JWT
# key never moves anyone's grid. A deployment that already has a JWT key (the file, or
# JWT_SECRET_KEY) keeps the grid it had: the key is the value derived from it until now.
$(LOCATION_SECRET_FILE):
	mkdir -p .secrets && chmod 700 .secrets
	umask 077; $(PYTHON) -c "import hashlib, os, pathlib, secrets; \
		jwt = pathlib.Path('$(SECRET)'); \
		key = os.environ.get('JWT_SECRET_KEY') or (jwt.read_text().strip() if jwt.exists() else ''); \
		print(hashlib.sha256(b'location-grid:' + key.encode()).hexdigest() if key \
		else secrets.token_urlsafe(48))" > $(LOCATION_SECRET_FILE).tmp
	mv $(LOCATION_SECRET_FILE).tmp $(LOCATION_SECRET_FILE)

db: $(BIN)/activate
	$(BIN)/python scripts/prepare_db.py "$(DATABASE_URL)"

migrate: db
	$(BIN)/alembic upgrade head

seed: migrate $(SECRET) $(LOCATION_SECRET_FILE)
	$(BIN)/flask --app wsgi seed-demo

# One Redis for every worker's rate limits and failed-login lockout (started, installed as
# root, or the command to run: scripts/ensure_redis.py). The push worker runs beside the
# API and stops with it; the URL is printed once /readyz answers.
run: seed $(SECRET) $(LOCATION_SECRET_FILE) node_modules/.package-lock.json
	mkdir -p .run/prometheus && rm -f .run/prometheus/*
	REDIS_URL=$$($(BIN)/python scripts/ensure_redis.py "$(REDIS_URL)") || exit 1; \
	export REDIS_URL PROMETHEUS_MULTIPROC_DIR=.run/prometheus; \
	$(BIN)/flask --app wsgi push-worker & worker=$$!; \
	$(BIN)/gunicorn -c gunicorn.conf.py --bind 0.0.0.0:$(PORT) --workers $(WORKERS) wsgi:app & \
	server=$$!; \
	trap 'kill $$worker $$server 2>/dev/null' EXIT; \
	$(BIN)/python scripts/wait_ready.py $(PORT) $$server; \
	wait $$server

# Every test: unit, integration, and the tiers test-fast leaves out (CI runs this).
test: $(BIN)/activate node_modules/.package-lock.json browser
	$(BIN)/python scripts/prepare_db.py "$(TEST_DATABASE_URL)"
	$(BIN)/pytest

# The edit-run loop: unit and integration tests on real PostGIS, without Chromium,
# gunicorn or worker processes, Schemathesis, private clusters, the long replays or the
# committing races; one pytest-xdist worker per core, each on a database of its own
# (<name>_gw0, <name>_gw1…). Bytecode is cached between runs (PYTHONDONTWRITEBYTECODE is
# lifted: recompiling every module cost each process seconds) and the fuzzers' pytest
# plugins, which no test of this tier uses, are not loaded.
FAST := not (browser or gunicorn or fuzz or cluster or slow or committing)
test-fast: $(BIN)/activate
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -m "$(FAST)" -n $${FAST_WORKERS:-auto} \
		-p no:schemathesis -p no:hypothesispytest $(PYTEST_ARGS)

# Citus from ../shared/vendor (Debian has none), built and installed once (as root).
citus:
	scripts/build_citus.sh

# The integration tests and tests/citus/ on a Citus cluster of their own: a coordinator and
# two workers started for the run and destroyed after (tests/citus_cluster.py). Left out,
# each for its reason in the README ("On a Citus cluster"): the tiers that start their own
# single-node clusters, the browser, the fuzzer and the single-node plan shapes.
# The demo seed's time bound: 34 s on Citus with the machine quiet (as on one node), but
# here three servers share the two cores with the test run: 64 s was seen in CI.
CITUS_SKIP := browser or fuzz or cluster or single_node
test-citus: citus $(BIN)/activate
	SEED_DEMO_BUDGET_S=$${SEED_DEMO_BUDGET_S:-90} \
	$(BIN)/python -m tests.citus_cluster run -- $(BIN)/pytest -m "not ($(CITUS_SKIP))" \
		tests/integration tests/citus $(PYTEST_ARGS)

# The pure rules alone: no database, no app.
test-unit: $(BIN)/activate
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# Schemathesis on the live API with every check and stateful links, 100 examples per
# operation (reports in test-artifacts/fuzz); it must end with zero failures.
fuzz: $(BIN)/activate
	$(BIN)/python scripts/prepare_db.py "$(TEST_DATABASE_URL)"
	$(BIN)/python -m tests.fuzz --examples 100

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/activate
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# wrk, the HTTP load generator of bench/scale.py (Debian's package, installed when root).
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && { \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; }; } || \
		{ echo "wrk is missing: apt-get install wrk"; exit 1; }

# PostgreSQL's memory sized as a dedicated server's (shared_buffers a quarter of RAM);
# restarts the local cluster when it has to change (scripts/tune_postgres.py).
tune-db: db
	$(BIN)/python scripts/tune_postgres.py "$(DATABASE_URL)"

# The whole product at its stated scale, side by side in one run (bench/README.md).
bench: $(BIN)/activate wrk tune-db citus
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .run
