# movie_r: `make run` starts the services, `make test` runs the test suite.
# Both create .venv when it is missing and install the pinned requirements into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-deploy venv train benchmark clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest

# the deploy suite: the images' environment installed from the index into a fresh venv
test-deploy: $(STAMP)
	$(BIN)/python -m pytest -m deploy

train: $(STAMP)
	$(BIN)/movie-r train

# The main job: the API on 127.0.0.1:8000 and the retraining agent, as two processes.
run: $(STAMP)
	VENV=$(VENV) scripts/run.sh

benchmark: $(STAMP)
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/api_load.py
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) .pytest_cache src/*.egg-info
