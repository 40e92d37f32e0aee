"""grpc is imported on the POSIX poller unless the user chose otherwise.

Each case runs in a fresh interpreter: grpc reads ``GRPC_EXPERIMENTS`` once,
when it is imported. A meta-path finder records the variable at the moment
grpc's core extension (``grpc._cython.cygrpc``, which reads it) is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest

from agentgen.runtime.grpc import core_engine

_PROBE = """
import json, os, sys

seen = []

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name == "grpc._cython.cygrpc":
            seen.append(os.environ.get("GRPC_EXPERIMENTS"))
        return None

sys.meta_path.insert(0, Recorder())
if sys.argv[1] == "grpc-first":
    import grpc
import agentgen.runtime.grpc.worker.runtime
print(json.dumps({"seen": seen, "after": os.environ.get("GRPC_EXPERIMENTS")}))
"""


_INSTALLED = core_engine.installed_grpcio_version()
_LOW, _HIGH = core_engine.TESTED_GRPCIO
TESTED = _INSTALLED is not None and _LOW <= _INSTALLED < _HIGH
# The switch only applies on tested grpcio versions; the lowest-versions venv
# (grpcio 1.70) checks that it is left off there.
needs_tested_grpcio = pytest.mark.skipif(
    not TESTED, reason=f"grpcio {grpc.__version__} is outside TESTED_GRPCIO"
)


def _probe(order: str, experiments: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"}
    if experiments is not None:
        env["GRPC_EXPERIMENTS"] = experiments
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, order],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@needs_tested_grpcio
def test_grpc_is_imported_with_the_event_engine_sockets_off() -> None:
    result = _probe("agentgen-first", None)
    assert result["seen"] == [core_engine.POLLER_EXPERIMENTS]


@pytest.mark.skipif(TESTED, reason=f"grpcio {grpc.__version__} is a tested one")
def test_an_untested_installed_grpcio_keeps_its_defaults() -> None:
    assert _probe("agentgen-first", None) == {"seen": [None], "after": None}


def test_the_environment_is_put_back_after_the_import() -> None:
    assert _probe("agentgen-first", None)["after"] is None


def test_a_users_own_setting_is_kept_even_when_empty() -> None:
    assert _probe("agentgen-first", "")["seen"] == [""]
    assert _probe("agentgen-first", "")["after"] == ""
    chosen = "-event_engine_client"
    assert _probe("agentgen-first", chosen)["seen"] == [chosen]


def test_nothing_changes_when_grpc_was_imported_first() -> None:
    result = _probe("grpc-first", None)
    assert result == {"seen": [None], "after": None}


def test_the_version_is_read_without_importing_grpc() -> None:
    major, minor = (int(part) for part in grpc.__version__.split(".")[:2])
    assert core_engine.installed_grpcio_version() == (major, minor)


@pytest.mark.parametrize("version", [(1, 84), (1, 90), (2, 0), None])
def test_untested_grpcio_versions_are_left_alone(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int] | None
) -> None:
    monkeypatch.delitem(sys.modules, "grpc")
    monkeypatch.delenv("GRPC_EXPERIMENTS", raising=False)
    monkeypatch.setattr(core_engine, "installed_grpcio_version", lambda: version)
    assert not core_engine.wants_poller()


@needs_tested_grpcio
def test_the_tested_grpcio_range_includes_the_installed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "grpc")
    monkeypatch.delenv("GRPC_EXPERIMENTS", raising=False)
    assert core_engine.wants_poller()


@needs_tested_grpcio
def test_the_poller_does_not_apply_once_the_user_set_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GRPC_EXPERIMENTS", raising=False)
    assert core_engine.poller_applies()
    monkeypatch.setenv("GRPC_EXPERIMENTS", "")
    assert not core_engine.poller_applies()
