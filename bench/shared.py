"""The test suite's helpers that the benchmark uses too.

``tests/`` is not a package: its shared helpers are top-level modules that
pytest puts on ``sys.path`` (``[tool.pytest.ini_options] pythonpath``). The
benchmark puts the same folder on ``sys.path`` here, once, and imports them,
so both run one implementation: ``autogen_env`` (the cached AutoGen 0.7.5
venv), ``child_processes`` (a child's environment, ending it) and
``protoc_helpers`` (protoc with the agentgen plugin).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.append(str(TESTS_DIR))

import autogen_env  # noqa: E402
import child_processes  # noqa: E402
import protoc_helpers  # noqa: E402

__all__ = ["TESTS_DIR", "autogen_env", "child_processes", "protoc_helpers"]
