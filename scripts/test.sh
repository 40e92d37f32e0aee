#!/usr/bin/env bash
# The project's test command (README, CI): set up .venv, lint, type-check,
# then run the whole test suite, interop tests against real AutoGen included.
# Extra arguments go to pytest (e.g. -m "not interop" to skip AutoGen locally).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
echo "== ruff"; .venv/bin/ruff check .
echo "== black"; .venv/bin/black --check --quiet .
echo "== mypy --strict"; .venv/bin/mypy agentgen tests
echo "== pytest"; .venv/bin/python -m pytest "$@"
