# The README's commands. Each target does its own idempotent setup first.
VENV := .venv
PY := $(VENV)/bin/python
HALLQ := $(VENV)/bin/hallq

.PHONY: setup run test test-cluster city bench lint clean schema

setup:
	@scripts/setup.sh

run: setup
	@$(HALLQ) run

# Two workers (the machines have two cores); a test file stays on one worker with its fixtures.
test: setup
	@$(PY) -m pytest -n 2 --dist loadfile -m "not cluster" $(PYTEST_ARGS)

# The clustered city broker (a 3-node RabbitMQ on loopback): its own target, run by CI after `make test`.
test-cluster: setup
	@scripts/setup.sh --cluster
	@$(PY) -m pytest -p no:xdist -m cluster tests/city $(PYTEST_ARGS)

# A demo city on this machine: three halls and a 24-hour point, the city broker, ingest, PostgreSQL, console.
city: setup
	@$(PY) -m city.demo

bench: setup
	@$(PY) -m bench
	@$(PY) -m bench.report_year

schema: setup
	@$(HALLQ) bus schema --out broker/schema

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
