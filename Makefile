# dcsim entry points. `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/quickstart.yaml

.PHONY: demo test bench bench-quick profile lint reference clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m simulator.warmup  # compile the kernels into numba's cache once, here
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dcsim run $(SCENARIO) --out results/quickstart

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)  # every figure beside its baseline and goal, in one table
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)  # the request plane, control plane and routing at smaller sizes (< 1 min)
	$(BIN)/python -m benchmarks --quick

profile: $(STAMP)  # make profile SCENARIO=scenarios/diurnal-week.yaml: profile/ in its run folder
	$(BIN)/dcsim run $(SCENARIO) --profile

lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks

reference: $(STAMP)
	$(BIN)/dcsim schema --reference > docs/scenario-reference.md

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
