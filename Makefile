# The two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

# Debian packages the test suite needs (real dbus-daemon, systemd --user,
# libsystemd for systemd-python, ping). Installed only when running as root
# and missing; udev is deliberately absent (installing it starts udevd).
DEB_PACKAGES := gcc pkg-config libsystemd-dev python3-dev systemd dbus dbus-user-session \
                iproute2 iputils-ping util-linux curl

.PHONY: test lint typecheck pytest bench demo deps-system venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)
	$(PIP) install --quiet -e '.[test,systemd]'

deps-system:
	@bash packaging/install-deps.sh $(DEB_PACKAGES)

test: deps-system venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src
	bash .ci/pytest-strict $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: venv
	$(PY) bench/eventlog.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
