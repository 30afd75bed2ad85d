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

.PHONY: check test lint typecheck pytest bench clean sync

check: .venv/.synced
	$(RUN) resilience check

test: lint typecheck pytest

lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: .venv/.synced
	$(RUN) mypy

pytest: .venv/.synced
	$(RUN) pytest -q

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
