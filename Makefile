# The two commands a newcomer needs: `make demo` and `make test`.
# Both create the virtualenv and install the provider and its test cluster (test-cluster/,
# the `kube-test-cluster` distribution) from this checkout on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: help venv lint test test-quick test-unit test-integration test-airflow demo bench dist clean

help:
	@echo "make demo              run the example DAG against the embedded test cluster"
	@echo "make test              lint (ruff, mypy) and the whole test suite"
	@echo "make test-quick        the inner loop (~2 min): lint, the unit tests, one test file per layer"
	@echo "make test-unit         the rules, hooks and sensor logic: no cluster, no Airflow DB"
	@echo "make test-integration  the test cluster (test-cluster/), the hooks and triggers over real HTTPS"
	@echo "make test-airflow      DAG runs in a real Airflow (dag.test, reschedule, deferral)"
	@echo "make bench             rule, poke and many-waits benchmarks (benchmarks/RESULTS.md)"
	@echo "make dist              build the sdists and wheels (provider, test cluster) into dist/"

# One pip call, so the provider's `testing` extra (kube-test-cluster) resolves to ./test-cluster.
$(STAMP): pyproject.toml test-cluster/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./test-cluster -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(PYTEST)

# One file per layer over the real path: the hook's reads and watches, a trigger, the
# test cluster through kubectl and its layering, the provider as Airflow loads it.
QUICK := tests/unit \
	tests/integration/hooks/test_hook.py \
	tests/integration/hooks/test_follow.py \
	tests/integration/hooks/test_trigger.py \
	test-cluster/tests/kube_test_cluster_tests/test_api_kubectl.py \
	test-cluster/tests/kube_test_cluster_tests/test_layers.py \
	tests/airflow/test_registration.py

test-quick: lint
	$(PYTEST) $(QUICK)

test-unit: $(STAMP)
	$(PYTEST) tests/unit

test-integration: $(STAMP)
	$(PYTEST) tests/integration test-cluster/tests

test-airflow: $(STAMP)
	$(PYTEST) tests/airflow

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rules.py
	$(BIN)/python benchmarks/bench_poke.py
	$(BIN)/python benchmarks/bench_scale.py

dist: $(STAMP)
	$(BIN)/python -m pip install --quiet build
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m build --outdir dist test-cluster
	@ls -1 dist

clean:
	rm -rf $(VENV) dist build .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
	rm -rf test-cluster/build test-cluster/*.egg-info
