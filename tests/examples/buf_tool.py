"""Locate (installing on first use) the buf CLI of the npm package ``@bufbuild/buf``.

The install is cached in ``$AGENTGEN_BUF_CACHE`` or ``~/.cache/agentgen/buf``.
Without npm the buf test is skipped; if the install fails (typically: no npm
registry reachable) it is skipped too, except under ``CI=true``, where a broken
install must not hide the test.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

BUF_PACKAGE = "@bufbuild/buf@1.75.0"
BUF_VERSION = "1.75.0"
INSTALL_TIMEOUT = 300


def buf_cache() -> Path:
    """Where ``npm install --prefix`` puts buf."""
    configured = os.environ.get("AGENTGEN_BUF_CACHE")
    return Path(configured) if configured else Path.home() / ".cache/agentgen/buf"


def _installed_version(buf: Path) -> str | None:
    if not buf.is_file():
        return None
    completed = subprocess.run(
        [str(buf), "--version"], capture_output=True, text=True, timeout=60
    )
    return completed.stdout.strip() if completed.returncode == 0 else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"buf is required under CI=true: {reason}")
    pytest.skip(reason)


def ensure_buf() -> Path:
    """The buf executable, installing it with npm if needed (or skip/fail)."""
    prefix = buf_cache()
    buf = prefix / "node_modules" / ".bin" / "buf"
    if _installed_version(buf) == BUF_VERSION:
        return buf
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(
            "npm is not on PATH, so buf (npm @bufbuild/buf) cannot be installed"
        )
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(buf) != BUF_VERSION:
            completed = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(prefix),
                    "--no-audit",
                    "--no-fund",
                    BUF_PACKAGE,
                ],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if completed.returncode != 0:
                tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
                _unavailable(
                    f"npm install {BUF_PACKAGE} failed (is an npm registry "
                    f"reachable?):\n{tail}"
                )
    version = _installed_version(buf)
    if version != BUF_VERSION:
        _unavailable(f"{buf} reports version {version!r}, expected {BUF_VERSION}")
    return buf
