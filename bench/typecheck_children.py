"""Type-check the child programs (``mypy --strict``), each side against its venv.

The children import generated code (``benchproto``) and, for AutoGen's,
packages that only exist in the AutoGen venv, so the repository's usual
``mypy agentgen tests`` cannot see them. This compiles the contract into a
temporary directory and runs mypy twice:

* agentgen's (gRPC and NATS) and the floors' children, with agentgen's gencode;
* AutoGen's children, with its gencode and its ``autogen_core`` /
  ``autogen_ext`` packages (linked into a search-path directory; errors
  inside them are silenced, ours are not).

``python -m bench.typecheck_children`` exits non-zero if either run fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .gencode import compile_for_agentgen, compile_for_autogen
from .run import autogen_python
from .systems import CHILDREN_DIR

__all__ = ["main"]

AUTOGEN_PACKAGES = ("autogen_core", "autogen_ext")


def _site_packages(python: Path) -> Path:
    completed = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Path(completed.stdout.strip())


def _mypy(search_path: list[Path], files: list[Path], *extra: str) -> int:
    environment = dict(os.environ, MYPYPATH=os.pathsep.join(map(str, search_path)))
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--explicit-package-bases",
        "--no-incremental",
        *extra,
        *map(str, files),
    ]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, env=environment, check=False).returncode


def main() -> int:
    """Run both mypy passes; return the worse exit code."""
    childio = CHILDREN_DIR / "childio.py"
    ours = [
        path
        for prefix in ("agentgen", "relay", "nats")
        for path in sorted(CHILDREN_DIR.glob(f"{prefix}_*.py"))
    ]
    theirs = sorted(CHILDREN_DIR.glob("autogen_*.py"))
    with tempfile.TemporaryDirectory(prefix="agentgen-bench-types-") as temporary:
        work = Path(temporary)
        agentgen_code = compile_for_agentgen(work / "agentgen")
        python = autogen_python()
        autogen_code = compile_for_autogen(python, work / "autogen")
        packages = work / "autogen-packages"
        packages.mkdir()
        for name in AUTOGEN_PACKAGES:
            (packages / name).symlink_to(_site_packages(python) / name)
        first = _mypy([CHILDREN_DIR, agentgen_code], [childio, *ours])
        second = _mypy(
            [CHILDREN_DIR, autogen_code, packages],
            [childio, *theirs],
            "--follow-imports=silent",
        )
    return max(first, second)


if __name__ == "__main__":
    raise SystemExit(main())
