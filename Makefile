# Two commands on a fresh machine with python3, pip and make:
#   make check   the main job offline: `resilience check` on the shipped stacks
#   make test    ruff, mypy and the test suite (what CI runs: .ci/run)
# uv is used if it is on PATH; otherwise a pinned uv is installed into .tools/ first.

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
RUN := $(UV) run --frozen --no-sync

.PHONY: check test lint typecheck pytest bench clean sync promtool

check: .venv/.synced
	$(RUN) resilience check

test: lint typecheck pytest

lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: .venv/.synced
	$(RUN) mypy

pytest: .venv/.synced promtool
	$(RUN) pytest -q -n auto

# promtool checks and unit-tests the generated Prometheus rules (tests/test_k8s.py). When it
# is missing, Debian's (or Ubuntu's) prometheus package provides it: as root, or with sudo -n.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "promtool not found: installing the prometheus package (apt-get)"; \
	  command -v apt-get >/dev/null 2>&1 || { echo "error: promtool is needed by the tests and apt-get is missing: install Prometheus's promtool and put it on PATH" >&2; exit 1; }; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
	    || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends prometheus; } \
	    || { echo "error: could not install the prometheus package (promtool); install promtool and put it on PATH" >&2; exit 1; }; \
	  command -v promtool >/dev/null 2>&1 || { echo "error: the prometheus package installed no promtool on PATH" >&2; exit 1; }; \
	}

bench: .venv/.synced
	$(RUN) python benchmarks/synth_scaling.py
	$(RUN) python benchmarks/failover_overhead.py
	$(RUN) python benchmarks/policy_eval.py

sync: .venv/.synced

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

clean:
	rm -rf .venv .tools out .mypy_cache .ruff_cache .pytest_cache
