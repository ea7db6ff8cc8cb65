# The two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

# Debian packages the test suite needs (real dbus-daemon, systemd --user,
# libsystemd for systemd-python, ping). Installed only when running as root
# and missing; udev is deliberately absent (installing it starts udevd).
DEB_PACKAGES := gcc pkg-config libsystemd-dev python3-dev systemd dbus dbus-user-session \
                iproute2 iputils-ping util-linux curl shellcheck jq lmdb-utils \
                python3-venv man-db

.PHONY: fresh-install test lint typecheck pytest bench demo docs deb deps-system venv clean

# bootstrap-venv.py also works where python3 has no ensurepip (Debian without python3-venv).
$(PY):
	$(PYTHON) packaging/bootstrap-venv.py $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)
	$(PIP) install --quiet -e '.[test,systemd]'

deps-system:
	@bash packaging/install-deps.sh $(DEB_PACKAGES)

# fresh-install runs the newcomer's path too: `make demo` in its own new venv, and a
# plain `pip install .` (no extras) whose syswardd must reach READY.
test: deps-system venv
	$(VENV)/bin/ruff check src tests bench packaging .ci
	$(VENV)/bin/ruff format --check src tests bench packaging .ci
	$(VENV)/bin/mypy src
	bash .ci/pytest-strict $(VENV)/bin/pytest -q $(PYTEST_ARGS)
	bash .ci/fresh-install

fresh-install:
	bash .ci/fresh-install

# No API key, no root, no compiler: the core package is all the demo needs.
# DEMO_ARGS="--json" adds a summary document; SYSWARD_DEMO_BASE_URL and
# SYSWARD_DEMO_MODEL (key in SYSWARD_DEMO_API_KEY or OPENAI_API_KEY) use a real model.
demo: $(PY)
	$(PIP) install --quiet -e .
	$(PY) -m sysward.demo $(DEMO_ARGS)

# The reference pages (api, events, configuration, tools) are generated from the
# code; tests/reference fails when a committed page is stale.
docs: venv
	$(PY) -m sysward.reference --docs docs

# dist/sysward_<version>_<arch>.deb: a virtualenv in /opt/sysward on Debian's python3
# (build-deb.sh does not use .venv), units, config, roles, man pages. See docs/install.md.
DEB_DIR ?= dist
deb: deps-system
	bash packaging/build-deb.sh $(DEB_DIR)

# TURN_ARGS="--steps 20 --runs 3" and AGENTS_ARGS="--agents 100 --log-events 100000"
# for a quick pass of the per-step and many-agents benchmarks.
bench: venv
	$(PIP) install --quiet -e '.[test,systemd,bench]'
	$(PY) bench/turn.py $(TURN_ARGS)
	$(PY) bench/agents.py $(AGENTS_ARGS)
	$(PY) bench/eventlog.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
