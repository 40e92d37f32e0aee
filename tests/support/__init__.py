"""Helpers shared by the test folders (and by the benchmark, ``bench/shared.py``).

* :mod:`.grpc_harness`: bounded waits, a raw wire-protocol peer, frame makers;
* :mod:`.agents`: the agents the runtime tests drive;
* :mod:`.protoc`: real protoc with the agentgen plugin;
* :mod:`.autogen_env`: the cached AutoGen 0.7.5 venv;
* :mod:`.child_processes`: another venv's child: its environment, ending it.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the working directory of ``python -m tests...`` children."""
