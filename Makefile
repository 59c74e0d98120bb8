# movie_r: `make run` starts the services, `make test` runs the test suite.
# Both create .venv when it is missing and install the pinned requirements into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export MOVIE_R_HOME ?= $(CURDIR)

.PHONY: run test venv train benchmark clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest

train: $(STAMP)
	$(BIN)/movie-r train

# Trains the first champion when the storage root has none, then serves.
run: $(STAMP)
	test -L "$(MOVIE_R_HOME)/models/champion" || $(BIN)/movie-r train
	$(BIN)/movie-r recommend "toy story" -k 5

benchmark: $(STAMP)
	$(BIN)/python benchmarks/training.py

clean:
	rm -rf $(VENV) .pytest_cache src/*.egg-info
