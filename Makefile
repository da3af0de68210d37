# The README's commands. Each target does its own idempotent setup first.
VENV := .venv
PY := $(VENV)/bin/python
HALLQ := $(VENV)/bin/hallq

.PHONY: setup run test bench lint clean schema

setup:
	@scripts/setup.sh

run: setup
	@$(HALLQ) run

# Two workers (the machines have two cores); a test file stays on one worker with its fixtures.
test: setup
	@$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

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
