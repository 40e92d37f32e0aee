"""The test suite's helpers that the benchmark uses too.

``tests`` is a package at the repository root, and the benchmark runs as
``python -m bench`` from there, so its helpers import normally and both run
one implementation: ``autogen_env`` (the cached AutoGen 0.7.5 venv),
``child_processes`` (a child's environment, ending it) and ``protoc``
(protoc with the agentgen plugin).
"""

from __future__ import annotations

from tests.support import autogen_env, child_processes, protoc

__all__ = ["autogen_env", "child_processes", "protoc"]
