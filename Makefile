# Two commands do all the set-up on a fresh machine (see README):
#   make demo   installs everything and indexes the bundled corpus/, then runs a sample search
#   make test   installs the test tools and runs lint + the whole test suite
.PHONY: demo install dev test lint bench clean

VENV := .venv/bin

demo: install
	$(VENV)/protokollsok index corpus/ --index index/
	$(VENV)/protokollsok search vittnen --index index/ --limit 3

install:
	scripts/setup.sh

dev:
	scripts/setup.sh --dev

test: dev
	$(VENV)/ruff check src tests bench scripts
	$(VENV)/python -m pytest

lint: dev
	$(VENV)/ruff check src tests bench scripts

clean:
	rm -rf .venv index/_* index/*.toc index/*.seg index/manifest.json build *.egg-info
