# movie_r: `make run` starts the services, `make test` runs the test suite.
# Both create .venv when it is missing and install the pinned requirements into it.

PYTHON ?= python3
COMPOSE ?= $(shell command -v docker-compose >/dev/null 2>&1 && echo docker-compose || echo docker compose)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# the suite's processes (pytest-xdist); a test file's tests stay in one, with its module fixtures
TEST_WORKERS ?= auto

.PHONY: run test test-browser test-spark spark-deps test-deploy test-containers screenshot wheelhouse images venv train benchmark clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# lint, types of the core and layering first (seconds), then the suite; the workers take whole
# files in the suite's order (tests/conftest.py: the slow files first), not xdist's (most tests first)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

# the console in a real browser alone (Debian's chromium: apt-get install chromium); also part of `make test`
test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser

# docs/console.png, the README's screenshot, taken again on the default data (the suite writes its own under tmp)
screenshot: $(STAMP)
	MOVIE_R_SCREENSHOT=$(CURDIR)/docs/console.png $(BIN)/python -m pytest -m browser tests/browser/test_screenshot.py

# the spark engine's suite: pyspark (requirements-spark.txt; the wheel pip builds once is cached)
# and Java 17+ (Debian: openjdk-17-jre-headless)
test-spark: spark-deps
	$(BIN)/python -m pytest -m spark

spark-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-spark.txt

# the deploy suite: the images' environment installed from the index into a fresh venv
test-deploy: $(STAMP)
	$(BIN)/python -m pytest -m deploy

# the container suite: builds the images and runs the compose stack on the Docker engine
test-containers: $(STAMP)
	$(BIN)/python -m pytest -m containers -s

# wheels of the pinned requirements (and the build backend) for image builds that cannot reach
# the package index: the Dockerfile installs from docker/wheels/ when it holds any
wheelhouse: $(STAMP)
	$(BIN)/python -m pip wheel --quiet -r requirements.txt -r requirements-spark.txt -w docker/wheels
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: "setuptools>=77" -d docker/wheels

# the images without a registry: a base from Debian's packages (root; ~1 min), the wheelhouse, then
# compose's build, and the spark profile's target (its three services share it: one builds it)
images: wheelhouse
	docker/build-base.sh
	MOVIE_R_BASE=movie_r-base:bookworm $(COMPOSE) build
	MOVIE_R_BASE=movie_r-base:bookworm $(COMPOSE) --profile spark build spark-master

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
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache *.egg-info src/*.egg-info
