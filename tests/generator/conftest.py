"""Fixtures shared by the generator tests: golden contracts compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest

from .golden import compile_golden


@pytest.fixture(scope="session")
def golden_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden contracts compiled by real protoc, once per session."""
    return compile_golden(tmp_path_factory.mktemp("golden"))
