# fhir_server — developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck examples bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package with its test/embedded extras

run: install  ## start the server on http://127.0.0.1:8080 with demo data (embedded store)
	$(BIN)/fhir-server serve --seed

examples: install  ## fetch the official HL7 R4 examples package (npm registry) into var/cache
	$(BIN)/python -m fhir_server.spec.package

lint: install  ## ruff + mypy
	$(BIN)/ruff check fhir_server tests bench terminology
	$(BIN)/mypy fhir_server

test: lint examples  ## lint, type-check, then the whole suite against a real server
	$(BIN)/pytest -q

bench: install  ## benchmarks: figures and same-run ratios (ARGS=--quick: the smoke run)
	-$(BIN)/python bench/peer_setup.py  # the peer bench's sekmet venv (PyPI); skipped if it fails
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf var/cache build *.egg-info .pytest_cache .mypy_cache .ruff_cache
