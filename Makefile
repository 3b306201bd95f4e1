# Set-up and everyday commands. Every target installs what it needs first.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3

.PHONY: install serve build validate test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,checks]' -c constraints.txt
	touch $@

serve: install
	$(BIN)/papernotes serve

build: install
	$(BIN)/papernotes build

validate: install
	$(BIN)/papernotes validate

# Every test: the equation checks (CPU unless a GPU is present), a strict build of the site, the test suite.
test: install
	$(BIN)/papernotes check
	$(BIN)/papernotes build
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/build_scale.py

clean:
	rm -rf build site .site.* $(VENV)
