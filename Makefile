# Two commands set everything up on a fresh machine:
#   make demo   create .venv, install Vigie, build and scan the demo seizure, write its HTML report
#   make test   install the development extras and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean catalogues

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { sh scripts/install-debian-packages.sh && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,faces]'
	@# Meta's reference PDQ and vPDQ compile from source; where they cannot, the compatibility tests skip.
	$(BIN)/pip install --quiet -e '.[reference-pdq]' || echo "note: reference PDQ (pdqhash) not built; its tests skip"
	$(BIN)/pip install --quiet -e '.[reference-vpdq]' || echo "note: reference vPDQ (vpdq) not built; its tests skip"
	$(BIN)/pip install --quiet -e '.[disk]' || echo "note: pytsk3/libewf not installed; the disk image tests skip"
	$(BIN)/pip install --quiet -e '.[train]' || echo "note: PyTorch not installed; the detector training test skips"
	$(BIN)/pip install --quiet -e '.[cluster]' || echo "note: psycopg/Ray not installed; the PostgreSQL store and Ray engine tests skip"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/vigie demo --dir vigie-demo

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/cog --check -I scripts README.md
	@# tests/services.py starts a private PostgreSQL and a Ray head for the suite and stops them by their PIDs.
	$(BIN)/python tests/services.py $(BIN)/python -m pytest -q

# After adding or changing a message: bring the French and Spanish catalogues up to date, then translate what it lists.
catalogues: $(VENV)/.installed
	$(BIN)/python -m vigie.i18n.extract

bench: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_scan.py
	$(BIN)/python benchmarks/bench_index.py

clean:
	rm -rf $(VENV) vigie-demo .pytest_cache .ruff_cache
