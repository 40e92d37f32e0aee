"""Security tests. The gRPC tests' helpers (``tests/grpc``) are importable from here."""

import sys
from pathlib import Path

_GRPC_TESTS = str(Path(__file__).resolve().parent.parent / "grpc")
if _GRPC_TESTS not in sys.path:
    sys.path.append(_GRPC_TESTS)
