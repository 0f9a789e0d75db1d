# Two commands for a newcomer: `make demo` and `make test`.
# Everything is installed into .venv inside the checkout from pinned versions.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ACCORD_DATA_DIR ?= $(CURDIR)/var

.PHONY: install demo serve test test-sqlite test-postgres clean bench-deps

$(BIN)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Accord needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/accord migrate --noinput -v 0
	$(BIN)/accord demo --keep
	$(BIN)/accord serve --with-worker

serve: install
	$(BIN)/accord serve --with-worker

# The suite runs on SQLite, then again on PostgreSQL when ACCORD_TEST_DATABASE_URL names one.
test: install
	$(BIN)/python scripts/run_tests.py

clean:
	rm -rf $(VENV) var .pytest_cache

# Extra packages for `accord bench dedup` only (not in requirements.lock).
bench-deps: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
