# Every target creates .venv and installs the project into it when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,embeddings,serve,ray]'
	touch $(STAMP)

.PHONY: demo test lint bench clean
demo: $(STAMP)
	$(BIN)/storytrace analyze examples/corpus --out out/demo
	@echo "Report: out/demo/report.html  (machine-readable: out/demo/result.json)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/cleaning.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/stories.py
	$(BIN)/python bench/reuse.py
	$(BIN)/python bench/provenance.py
	$(BIN)/python bench/stories_scale.py
	$(BIN)/python bench/analyze_scale.py

clean:
	rm -rf out .pytest_cache
