"""Where a worker connects: argument, ``AGENT_HOST`` or the default."""

from __future__ import annotations

import pytest

from agentgen.runtime.grpc.protocol.address import resolve_worker_target


def test_worker_address_comes_from_argument_env_or_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGENT_HOST", raising=False)
    assert resolve_worker_target(None) == ("localhost:53071", False)
    monkeypatch.setenv("AGENT_HOST", "http://10.0.0.5:5000/")
    assert resolve_worker_target(None) == ("10.0.0.5:5000", False)
    assert resolve_worker_target("https://example.org:443") == (
        "example.org:443",
        True,
    )
    assert resolve_worker_target("[::1]:7000") == ("[::1]:7000", False)
    with pytest.raises(ValueError, match="AGENT_HOST"):
        monkeypatch.setenv("AGENT_HOST", "no-port-here")
        resolve_worker_target(None)
