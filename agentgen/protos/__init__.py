"""The ``.proto`` files agentgen ships and their compiled modules.

``agentgen/options.proto`` (the annotations) lives in ``agentgen/`` below this
folder; its compiled module is :mod:`agentgen.options_pb2`, where protoc's
generated code for user contracts expects it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["protos_path"]


def protos_path() -> Path:
    """Return the directory to pass to protoc as ``-I``.

    With it, ``import "agentgen/options.proto";`` resolves.
    """
    # Imported here: workers import this package (for its compiled modules)
    # and nothing else of theirs needs pathlib, which costs milliseconds.
    from pathlib import Path

    return Path(__file__).resolve().parent
