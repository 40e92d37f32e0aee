"""Options of the reliability tests: how big the soak is.

Every run does the short soak (8 workers x 1,000 messages). The full one
(8 x 10,000) runs with ``AGENTGEN_SOAK=full`` in the environment, or with
``pytest tests/reliability --soak=full`` (the option exists when pytest is
pointed at this folder), and records its figures in ``SOAK.md``.
"""

from __future__ import annotations

import os

import pytest

from .soak_plan import SOAK_SIZES, SOAK_WORKERS, SoakPlan, SoakSize

SOAK_VARIABLE = "AGENTGEN_SOAK"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        choices=sorted(SOAK_SIZES),
        default=None,
        help=f"soak size (default: ${SOAK_VARIABLE}, else 'ci')",
    )


@pytest.fixture
def soak_size(request: pytest.FixtureRequest) -> SoakSize:
    name = request.config.getoption("soak", None) or os.environ.get(SOAK_VARIABLE, "ci")
    if name not in SOAK_SIZES:
        raise pytest.UsageError(
            f"{SOAK_VARIABLE}={name!r}: use one of {', '.join(sorted(SOAK_SIZES))}"
        )
    return SoakSize(name, SoakPlan(SOAK_WORKERS, SOAK_SIZES[name]))
