#!/usr/bin/env bash
# Set up .venv and run the hello example end to end: an agentgen host, the
# HelloAgent process and the user-proxy process, talking over gRPC.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
exec .venv/bin/python examples/hello/run.py "$@"
