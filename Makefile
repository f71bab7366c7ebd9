# Two commands do everything on a fresh machine:  `make app` (the web app on the bundled corpus)
# and `make test` (the full test suite, browser tests included). Both install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0

.PHONY: install app ask test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU-only torch first, so sentence-transformers does not pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[web,postgres,dev]"
	touch $@

install: $(VENV)/.installed

app: install
	$(VENV)/bin/tipqa serve

ask: install
	$(VENV)/bin/tipqa ask "Which country proposed joint investigation teams?"

/usr/bin/chromium:
	apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver

test: install /usr/bin/chromium
	$(PY) -m pytest -q -ra

test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow"

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT index/.lock
