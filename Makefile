# Jalon: two commands do all set-up on a fresh machine.
#   make run   - venv, install, synthetic data, train, register, promote, serve on :3000
#   make test  - venv, install (from the lock, every extra), run the whole suite
# Dependencies:
#   make lock          - re-resolve pyproject.toml into requirements.lock (hashes), the client
#                        generator's requirements-clientgen.lock, then make requirements
#   make requirements  - requirements-serving.txt (the Bento's) from the lock, runtime dependencies only
#   make install       - the venv from the lock, then the project itself (editable, no dependencies)
#   make lint          - ruff format --check, ruff check, mypy, lint-imports
# VENV=/some/where make install puts the virtual environment elsewhere (e.g. a throwaway check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv resolves and installs; pip only bootstraps it (a fresh machine has python3 and pip alone).
UV_VERSION ?= 0.13.9
UV := $(BIN)/uv
LOCK := requirements.lock
SERVING_REQUIREMENTS := requirements-serving.txt
# The OpenAPI client generator the contract tests use pins typer below the runtime's own: it
# lives apart, in a target folder of the venv, with the setuptools and wheel that build the
# generated client (tests/serving/test_openapi.py finds it there).
CLIENTGEN_LOCK := requirements-clientgen.lock
CLIENTGEN := $(VENV)/clientgen
JALON_HOME ?= $(CURDIR)/.jalon
export JALON_HOME
ROWS ?= 200000
SEED ?= 1
PORT ?= 3000
DATA := $(JALON_HOME)/data/population-$(ROWS)-seed$(SEED).parquet
STAMP := $(VENV)/.installed

.PHONY: run test install lock requirements lint data train serve bench clean mlflow-ui

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'

# Every extra (train, test, dev) at the lock's exact versions, each file checked against its
# hash; then the project itself without resolving anything again.
$(STAMP): $(LOCK) $(CLIENTGEN_LOCK) pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes --target $(CLIENTGEN) -r $(CLIENTGEN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lock: | $(UV)
	$(UV) pip compile pyproject.toml --all-extras --generate-hashes --python-version 3.11 \
		--custom-compile-command 'make lock' --quiet -o $(LOCK)
	printf 'openapi-python-client==0.29.1\nsetuptools>=77\nwheel\n' | $(UV) pip compile - --generate-hashes --python-version 3.11 \
		--custom-compile-command 'make lock' --quiet -o $(CLIENTGEN_LOCK)
	$(MAKE) requirements

# The runtime dependencies alone (no extra), each pinned to the lock's version: the lock is a
# constraint, so nothing here can differ from what the tests ran with.
requirements: | $(UV)
	$(UV) pip compile pyproject.toml --python-version 3.11 --constraint $(LOCK) \
		--custom-compile-command 'make requirements' --no-annotate --quiet -o $(SERVING_REQUIREMENTS)

# All four tools run even when one fails, so one run lists every finding; the status is the worst.
lint: $(STAMP)
	@status=0; \
	echo '--- ruff format --check .'; $(BIN)/ruff format --check . || status=1; \
	echo '--- ruff check .'; $(BIN)/ruff check . || status=1; \
	echo '--- mypy'; $(BIN)/mypy || status=1; \
	echo '--- lint-imports'; $(BIN)/lint-imports || status=1; \
	exit $$status

$(DATA): | $(STAMP)
	$(BIN)/jalon data synth --rows $(ROWS) --seed $(SEED) --out $(DATA)

data: $(DATA)

# Train, register and promote (the gate decides; the first version becomes champion if it
# passes quality and fairness bounds). Skipped when a champion already exists.
train: $(DATA)
	@if $(BIN)/jalon models --model jalon-segmentation 2>/dev/null | grep -q champion; then \
		echo "a champion exists (jalon models); retrain with: $(BIN)/jalon train --data $(DATA) --promote"; \
	else $(BIN)/jalon train --data $(DATA) --seed $(SEED) --promote; fi

serve: | $(STAMP)
	@echo "local development token (advisor adv-local):"
	@$(BIN)/jalon token adv-local --role advisor
	$(BIN)/jalon serve --port $(PORT)

run: train serve

# MLflow's UI on the project's store: runs (with the model report and card), datasets, registry.
mlflow-ui: | $(STAMP)
	$(BIN)/jalon ui --port $${MLFLOW_PORT:-5000}

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synth.py --rows 1000000 --seed 1 --out /tmp/jalon-bench.parquet
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_plan.py

clean:
	rm -rf $(JALON_HOME) test-artifacts
