#!/usr/bin/env bash
# The test suite on the lowest versions pyproject.toml declares (CI's second
# venv): .venv-lowest gets agentgen with its test extras, every requirement
# pinned to its floor (scripts/lowest_constraints.py), then pytest runs without
# the AutoGen interop tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=.venv-lowest
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
stamp=$venv/.agentgen-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  constraints=$venv/constraints.txt
  "$venv/bin/python" scripts/lowest_constraints.py >"$constraints"
  "$venv/bin/python" -m pip install --quiet -c "$constraints" -e '.[test]'
  touch "$stamp"
fi
echo "== lowest declared versions"
"$venv/bin/python" -m pip list --format=freeze 2>/dev/null \
  | grep -iE '^(protobuf|grpcio|grpcio-tools|mypy-protobuf|jinja2|typer|pytest|pytest-asyncio|opentelemetry-api|opentelemetry-sdk|prometheus[-_]client)==' \
  | tr '\n' ' '
echo
echo "== pytest (lowest versions, no interop)"
exec "$venv/bin/python" -m pytest -m "not interop" "$@"
