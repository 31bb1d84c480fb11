# Token Console: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run test venv dev-venv setup lint typecheck fuzz bench clean

# The stamp files make `make run` cheap the second time and redo the install
# when pyproject.toml changes.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PYTHONWARNINGS: setuptools' editable install warns, for information only, that a folder
# named like the package may take precedence over it; here that folder is the package.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/activate
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

setup: venv
	$(BIN)/flask --app webapp setup --sign-in-url http://$(HOST):$(PORT)/login

# Loopback by default: facing the network, gunicorn's sync workers belong behind nginx (see the
# README's "Behind nginx"); HOST=0.0.0.0 binds every interface anyway.
run: setup
	@echo "Serving on http://$(HOST):$(PORT)/$(if $(filter 127.0.0.1 localhost ::1,$(HOST)), (loopback only: put nginx in front to serve a network, see README), (not loopback: gunicorn's sync workers belong behind nginx, see README))"
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

test: dev-venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: dev-venv
	$(BIN)/ruff check webapp tests bench fuzz wsgi.py
	$(BIN)/mypy
	$(BIN)/bandit --quiet -r webapp --severity-level medium --confidence-level medium

# Feeds the diagnosis engine for a bounded time; any uncaught exception fails.
fuzz: dev-venv
	$(BIN)/python fuzz/fuzz_diagnose.py -max_total_time=$(or $(FUZZ_SECONDS),60) -rss_limit_mb=2048

typecheck: lint

bench: dev-venv
	$(BIN)/python bench/diagnosis.py
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
