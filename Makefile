# Jalon: two commands do all set-up on a fresh machine.
#   make run   - venv, install, synthetic data, train, register, promote, serve on :3000
#   make test  - venv, install (with test extras), run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JALON_HOME ?= $(CURDIR)/.jalon
export JALON_HOME
ROWS ?= 200000
SEED ?= 1
PORT ?= 3000
DATA := $(JALON_HOME)/data/population-$(ROWS)-seed$(SEED).parquet
STAMP := $(VENV)/.installed

.PHONY: run test install data train serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(DATA): | $(STAMP)
	$(BIN)/jalon data synth --rows $(ROWS) --seed $(SEED) --out $(DATA)

data: $(DATA)

# Train, register and promote (the gate decides; the first version becomes champion if it
# passes quality and fairness bounds). Skipped when a champion already exists.
train: $(DATA)
	@if $(BIN)/jalon models 2>/dev/null | grep -q champion; then \
		echo "a champion exists (jalon models); retrain with: $(BIN)/jalon train --data $(DATA) --promote"; \
	else $(BIN)/jalon train --data $(DATA) --seed $(SEED) --promote; fi

serve: | $(STAMP)
	@echo "local development token (advisor adv-local):"
	@$(BIN)/jalon token adv-local --role advisor
	$(BIN)/jalon serve --port $(PORT)

run: train serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synth.py --rows 1000000 --seed 1 --out /tmp/jalon-bench.parquet
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_batch.py

clean:
	rm -rf $(JALON_HOME) test-artifacts
