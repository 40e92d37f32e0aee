"""Regenerate the committed golden output ``tests/golden/expected``.

Run from the repository root: ``python -m tests.generator.regen_golden``.
Review the diff before committing it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .golden import EXPECTED_DIR, agents_modules, compile_golden


def main() -> None:
    """Compile the golden contracts and replace the expected ``_agents`` files."""
    with tempfile.TemporaryDirectory() as scratch:
        generated = agents_modules(compile_golden(Path(scratch)))
    shutil.rmtree(EXPECTED_DIR, ignore_errors=True)
    for relative, content in generated.items():
        target = EXPECTED_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    print(f"wrote {len(generated)} modules to {EXPECTED_DIR}")


if __name__ == "__main__":
    main()
