"""Test-side handles of the AutoGen peer programs in ``peers/``.

:class:`AutogenHost` runs AutoGen's ``GrpcWorkerAgentRuntimeHost``;
:class:`AutogenWorker` runs an AutoGen ``GrpcWorkerAgentRuntime`` with the
agents of ``peers/autogen_worker.py`` and turns its commands and events into
awaitable calls. Every wait is bounded (``PeerProcess.wait_for``).
"""

from __future__ import annotations

import itertools
from typing import Any

from .contract import agent_type
from .peer_process import Event, PeerLauncher, PeerProcess

__all__ = ["AutogenHost", "AutogenWorker"]

STARTUP_SECONDS = 30.0


class AutogenHost:
    """AutoGen's host in a child process, listening on a free loopback port."""

    def __init__(self, peer: PeerProcess, address: str) -> None:
        self.peer = peer
        self.address = address

    @classmethod
    async def start(cls, peers: PeerLauncher) -> AutogenHost:
        peer = await peers.launch("autogen-host", "autogen_host")
        listening = await peer.wait_for(
            lambda event: event["event"] == "listening",
            what="'listening' line",
            timeout=STARTUP_SECONDS,
        )
        return cls(peer, str(listening["address"]))


class AutogenWorker:
    """An AutoGen worker in a child process; its agents are ``<name>_<kind>``."""

    def __init__(self, peer: PeerProcess, name: str) -> None:
        self.peer = peer
        self.name = name
        self._command_ids = itertools.count(1)

    @classmethod
    async def start(
        cls,
        peers: PeerLauncher,
        host_address: str,
        name: str,
        payload_format: str = "protobuf",
        *,
        shared_echo_type: str | None = None,
    ) -> AutogenWorker:
        """Start it and return once its agent types are registered.

        ``shared_echo_type``: also serve that type with an echo agent naming
        the process (``name``) as responder (see ``peers/autogen_worker.py``).
        """
        shared = (
            () if shared_echo_type is None else ("--shared-echo-type", shared_echo_type)
        )
        peer = await peers.launch(
            name,
            "autogen_worker",
            "--host",
            host_address,
            "--name",
            name,
            "--format",
            payload_format,
            *shared,
        )
        await peer.wait_for(
            lambda event: event["event"] == "ready",
            what="'ready' line",
            timeout=STARTUP_SECONDS,
        )
        return cls(peer, name)

    def agent_type(self, kind: str) -> str:
        return agent_type(self.name, kind)

    async def publish(
        self,
        topic_type: str,
        topic_source: str,
        text: str,
        seq: int,
        *,
        sender: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``Ping(text, seq)``; returns once AutoGen's call returned."""
        command_id = next(self._command_ids)
        await self.peer.command(
            "publish",
            id=command_id,
            topic_type=topic_type,
            topic_source=topic_source,
            text=text,
            seq=seq,
            sender=sender,
            message_id=message_id,
        )
        await self._outcome(command_id, "published")

    async def send(
        self,
        target_type: str,
        target_key: str,
        request: dict[str, Any],
        *,
        sender: str | None = None,
        timeout: float = 10.0,
    ) -> Event:
        """Send an ``EchoRequest`` (proto JSON dict); the reply or rpc_error event."""
        command_id = await self.start_send(
            target_type, target_key, request, sender=sender, timeout=timeout
        )
        return await self.outcome(command_id, wait=timeout + 5)

    async def start_send(
        self,
        target_type: str,
        target_key: str,
        request: dict[str, Any],
        *,
        sender: str | None = None,
        timeout: float = 10.0,
    ) -> int:
        """Send an ``EchoRequest`` without waiting; the id for :meth:`outcome`."""
        command_id = next(self._command_ids)
        await self.peer.command(
            "send",
            id=command_id,
            target_type=target_type,
            target_key=target_key,
            request=request,
            sender=sender,
            timeout=timeout,
        )
        return command_id

    async def outcome(self, command_id: int, wait: float = 15.0) -> Event:
        """The ``reply`` or ``rpc_error`` of a :meth:`start_send`."""
        return await self._outcome(command_id, "reply", "rpc_error", wait=wait)

    async def release_held_replies(self) -> None:
        """Let the echo agent answer the ``hold:`` requests it holds."""
        command_id = next(self._command_ids)
        await self.peer.command("release", id=command_id)
        await self._outcome(command_id, "released")

    async def received(
        self, agent: str, seq: int | None = None, *, text: str | None = None
    ) -> Event:
        """The ``received`` event of agent ``type/key`` (with that seq/text)."""
        return await self.peer.wait_for(
            lambda event: event["event"] == "received"
            and event["agent"] == agent
            and (seq is None or event["message"].get("seq") == seq)
            and (text is None or event["message"].get("text") == text),
            what=f"delivery to {agent} (seq {seq}, text {text!r})",
        )

    def deliveries(self) -> list[Event]:
        """Every ``received`` event so far."""
        return self.peer.seen(lambda event: event["event"] == "received")

    def decoded_content_types(self, type_name: str) -> list[str]:
        """The content types of every payload of ``type_name`` decoded so far."""
        return [
            event["content_type"]
            for event in self.peer.seen(
                lambda event: event["event"] == "decoded"
                and event["type_name"] == type_name
            )
        ]

    async def _outcome(
        self, command_id: int, *events: str, wait: float = 15.0
    ) -> Event:
        outcome = await self.peer.wait_for(
            lambda event: event.get("id") == command_id
            and event["event"] in (*events, "command_error"),
            what=f"outcome of command {command_id}",
            timeout=wait,
        )
        assert outcome["event"] != "command_error", outcome
        return outcome
