# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev migrate seed bench mutate mutate-access screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) countries seed
	$(FLASK) demo seed

run: seed
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/mypy portal
	$(BIN)/ruff check portal
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/attachments.py
	$(BIN)/python bench/listing.py

# Mutation testing of the access policy, the crypto and the sharing operations (slow; not part
# of `make test`). Settings are [tool.mutmut] in pyproject.toml; a second run resumes.
mutate: install-dev
	$(BIN)/mutmut run
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/python -c "import json; print(json.load(open('mutants/mutmut-cicd-stats.json')))"

# The access policy alone, against its direct rule tests and the authorisation matrices
# ([tool.mutmut.access] in pyproject.toml; tests/mutmut_access.py applies it). One worker,
# niced: ~600 mutants in about 45 minutes (stats and the clean run of the matrices included);
# `$(BIN)/python tests/mutmut_access.py show NAME` shows one, `... run NAME...` re-runs some.
mutate-access: install-dev
	nice $(BIN)/python tests/mutmut_access.py run --max-children 1
	$(BIN)/python tests/mutmut_access.py results
	$(BIN)/python tests/mutmut_access.py export-cicd-stats
	@$(BIN)/python -c "import json; print(json.load(open('mutants/mutmut-cicd-stats.json')))"

# Screenshots of the main pages of each role at desktop and phone size, in real Chromium, for
# reviewers: into screenshots/ (git-ignored). A fresh database with a small world each time.
screenshots: install-dev
	SCREENSHOTS_DIR=$(CURDIR)/screenshots $(BIN)/python -m pytest tests/browser/screenshots.py -p no:randomly -n 0 -q -s

clean:
	rm -rf $(VENV) instance .pytest_cache mutants
