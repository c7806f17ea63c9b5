# The entry points: `make demo`, `make test`, `make bench`, `make lint`.
# Needs only Python 3.11+ and make; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench bench-quick bench-readme lint format golden clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	@echo "== nyhetsbrev check 2024-q4  (the reference issue: errors stop here, warnings are listed)"
	@$(BIN)/nyhetsbrev check 2024-q4
	@echo
	@echo "== nyhetsbrev build 2024-q4"
	@$(BIN)/nyhetsbrev build 2024-q4
	@echo
	@echo "Done: open build/2024-q4/index.html (web edition) or build/2024-q4/email.html in a browser."

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

golden: $(STAMP)
	$(BIN)/python -m pytest tests/render --update-golden

bench: $(STAMP)
	$(BIN)/python -m tests.bench

# The same figures on a smaller run (10,000 contacts, 200 messages, fewer repetitions).
bench-quick: $(STAMP)
	$(BIN)/python -m tests.bench --quick

# README.md's performance table from the last bench's build/bench.json.
bench-readme: $(STAMP)
	$(BIN)/python -m tests.bench.readme

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf build/*/ build/index.html .pytest_cache .mypy_cache .ruff_cache
