"""How much the fuzz tests run: a small, reproducible budget in CI.

``AGENTGEN_FUZZ=long`` (or ``AGENTGEN_FUZZ=<examples>``) runs many more random
examples locally; the default runs few, derandomized, so CI is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["LONG_RUN", "fuzz_settings"]

_VARIABLE = "AGENTGEN_FUZZ"
_LONG_FACTOR = 20


def _requested() -> str:
    return os.environ.get(_VARIABLE, "").strip().lower()


LONG_RUN = _requested() not in ("", "ci")
"""Whether this is a long local run (random seeds, many examples)."""


def fuzz_settings(ci_examples: int) -> settings:
    """Settings for one fuzz test: ``ci_examples`` in CI, many more when asked.

    Examples share one host (a function-scoped fixture), which is the point:
    each example must leave it working for the next.
    """
    requested = _requested()
    if requested.isdigit():
        examples = int(requested)
    elif LONG_RUN:
        examples = ci_examples * _LONG_FACTOR
    else:
        examples = ci_examples
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not LONG_RUN,
        database=None,
        print_blob=LONG_RUN,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
