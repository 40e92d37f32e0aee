"""random_uuid: the text of a version 4 UUID, as str(uuid.uuid4())."""

from __future__ import annotations

import uuid

from agentgen.runtime.uuids import random_uuid


def test_random_uuid_is_a_version_4_rfc_4122_uuid() -> None:
    seen = set()
    for _ in range(200):
        text = random_uuid()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        seen.add(text)
    assert len(seen) == 200
