# Two commands for a fresh machine: `make dist` and `make test`. Both create .venv if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dist test venv starter demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

venv: $(STAMP)

dist: $(STAMP)
	$(BIN)/autograder starter --check
	$(BIN)/autograder build --out dist

test: $(STAMP)
	$(BIN)/python -m pytest

starter: $(STAMP)
	$(BIN)/autograder starter

# A class of 48 rnn submissions with planted bugs, graded into demo/rnn (report.html), and its screenshot.
demo: $(STAMP)
	$(BIN)/python benchmarks/demo_class.py --out demo/rnn --screenshot docs/class-report.png

clean:
	rm -rf dist .cache build demo *.egg-info
