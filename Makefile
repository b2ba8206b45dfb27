# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test install lint format messages check bench-votes bench-duplicates bench-similar bench-clusters screenshots board-check handover-check measures-check mail-check workshop-check bench-export bench-faults bench-workshop bench-mail bench-dashboard bench-pages clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Serve on http://127.0.0.1:8000: migrate, seed the demo on an empty database, serve.
run: install
	$(BIN)/ideas-platform serve --seed

## Lint, then the whole suite (DATABASE_URL if set, else a fresh embedded PostgreSQL).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ideas_platform
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy ideas_platform

format: install
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

## Extract translatable strings and update the catalogues (then translate ideas_platform/locale/de).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location --sort-output -o ideas_platform/locale/messages.pot .
	$(BIN)/pybabel update -i ideas_platform/locale/messages.pot -d ideas_platform/locale -D messages --no-fuzzy-matching

check: install
	$(BIN)/ideas-platform check

## Load benchmark of the vote endpoint against raw asyncpg and pgbench (see bench/README.md).
bench-votes: install
	$(BIN)/python -m bench.votes

## Server time (p95) of the idea list, an idea page and the ranking at 20,000 ideas / 1,000,000 votes.
bench-pages: install
	$(BIN)/python -m bench.pages $(ARGS)

## Quality of the duplicate suggestions on the labelled pairs in bench/data (precision, recall, top-5).
bench-duplicates: install
	$(BIN)/python -m bench.duplicates $(ARGS)

## Quality (NMI, ARI vs. a baseline) and speed (20,000 ideas) of the machine theme suggestions.
bench-clusters: install
	$(BIN)/python -m bench.clusters

## Speed of the duplicate suggestions with 100,000 ideas in one process (median, p95).
bench-similar: install
	$(BIN)/python -m bench.similar_speed

## Speed and peak memory of the exports (XLSX, CSV, JSON: 20,000 ideas, 1,000,000 votes; PDF dossier).
bench-export: install
	$(BIN)/python -m bench.export

## The vote endpoint at 25/50/75 % load, PostgreSQL restarted and a worker killed mid-load (~3 min).
bench-faults: install
	$(BIN)/python -m bench.faults

## A live workshop on two app processes: 300 phones, 600 ideas, 6,000 dots, 3 projectors (~6 min).
bench-workshop: install
	$(BIN)/python -m bench.workshop

## 10,000 notifications for 2,000 people through the outbox to a local SMTP server, 2 app workers:
## delivered exactly once, mails/s, vote throughput with the sender busy vs. idle (~4 min).
bench-mail: install
	$(BIN)/python -m bench.mail $(ARGS)

## Server time of the ministry dashboard and the Umsetzung page at 20,000 ideas, 1,000,000 votes,
## 500 measures with 5,000 updates: median, p95, max per page, target p95 < 200 ms (~1-2 min).
bench-dashboard: install
	$(BIN)/python -m bench.dashboard $(ARGS)

## The cluster board live in two browser windows (suggest, accept, drag, see it in the other).
board-check: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/board_live_check.py

## The ministry's hand-over in a real browser: decide, freeze, download and check all four formats.
handover-check: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/handover_check.py

## After the hand-over in Chromium: measure, update with PDF, what a participant sees; screenshots.
measures-check: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/measures_check.py

## Accounts and mail in Chromium: forgotten password, following an idea (bell, mail, daily digest),
## profile, legal pages, registration with consent; the mails read in /admin/outbox. Screenshots
## into docs/ (notifications-*, profile-*, outbox-*, password-reset-*).
mail-check: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/account_mail_check.py

## A workshop in Chromium: a phone joins and sends an idea and a dot, the projector shows them live
## (also after a network drop). Writes screenshots of the projector and the phone.
workshop-check: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/workshop_check.py

## Screenshots of the main pages (desktop, phone) into docs/screenshots/ (needs Debian's chromium).
screenshots: install
	$(BIN)/pip install -q -e '.[e2e]'
	$(BIN)/python tools/screenshots.py

clean-data:
	rm -rf data
