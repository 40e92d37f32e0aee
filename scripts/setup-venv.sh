#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv at .venv and install agentgen
# with its test extras into it. Prints nothing but errors when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=.venv/.agentgen-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
  touch "$stamp"
fi
