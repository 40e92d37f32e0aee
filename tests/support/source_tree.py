"""A copy of agentgen's source tree, as ``pip install <folder>`` would see it.

Tests that install agentgen into another venv install such a copy, so the
build leaves nothing in the working tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import REPO_ROOT

__all__ = ["REPO_ROOT", "copy_source"]

# Not part of a source install: VCS data, virtualenvs, caches, build output.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".venv-*",
    "venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "node_modules",
)


def copy_source(destination: Path) -> Path:
    """Copy the source tree to ``destination`` (which must not exist); return it."""
    shutil.copytree(REPO_ROOT, destination, ignore=_NOT_SOURCE, symlinks=True)
    return destination
