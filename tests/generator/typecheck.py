"""Running ``mypy --strict`` on generated code and on user code that uses it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import agentgen

MYPY_TIMEOUT_SECONDS = 300.0
# The .pyi stubs protoc writes are not --strict clean (bare ``Mapping``), and
# agentgen's own modules are checked by the project's mypy run, not here.
_CONFIG = """\
[mypy]
strict = True
python_version = 3.11
explicit_package_bases = True
incremental = False
mypy_path = {package_root}

[mypy-agentgen.*]
ignore_errors = True

[mypy-{pb2_modules}]
ignore_errors = True
"""


def _pb2_modules(root: Path) -> str:
    modules = sorted(
        ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*_pb2.pyi")
    )
    return ",".join(modules) or "no_pb2_modules"


def run_mypy(root: Path, files: Sequence[Path]) -> subprocess.CompletedProcess[str]:
    """Run ``mypy --strict`` in ``root`` (generated code and stubs) on ``files``."""
    config = root / "mypy-generated.ini"
    config.write_text(
        _CONFIG.format(
            package_root=Path(agentgen.__file__).resolve().parents[1],
            pb2_modules=_pb2_modules(root),
        ),
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config)]
        + [str(path.relative_to(root)) for path in files],
        capture_output=True,
        text=True,
        timeout=MYPY_TIMEOUT_SECONDS,
        check=False,
        cwd=root,
    )
