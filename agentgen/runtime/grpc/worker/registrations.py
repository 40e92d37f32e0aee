"""Keeping the host's view of one worker's agent types and subscriptions current.

The Python host forgets everything about a client when its stream ends, so
each new connection registers every local agent type and subscription again
(reference §10, worker checklist, item 7).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import grpc

from agentgen.protos import agent_worker_pb2 as pb

from ...subscription_table import SubscriptionTable
from ...subscriptions import Subscription
from ...wire.frames import subscription_to_wire
from ..protocol import service
from ..protocol.connection_errors import HostRefusedError
from .stream import WorkerStream

__all__ = ["RegistrationSync", "describe_failure", "is_connection_failure"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

_CONNECTION_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})


def is_connection_failure(error: BaseException) -> bool:
    """Whether a failed call means the connection is gone (not a refusal)."""
    return isinstance(error, grpc.aio.AioRpcError) and error.code() in _CONNECTION_CODES


def describe_failure(error: BaseException) -> str:
    """A failed call or connection attempt, in a few words for a log line."""
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


class RegistrationSync:
    """What one stream has registered with the host, and the calls changing it.

    A refusal raises :class:`HostRefusedError`; a lost connection raises the
    call's ``grpc.aio.AioRpcError`` (see :func:`is_connection_failure`).
    """

    def __init__(self, stream: WorkerStream, host_address: str) -> None:
        self._stream = stream
        self._host_address = host_address
        self.agent_types: set[str] = set()
        self.subscription_ids: set[str] = set()

    async def sync(
        self,
        agent_types: Mapping[str, object],
        subscriptions: SubscriptionTable,
    ) -> None:
        """Register what is local and not on the host; remove what is gone.

        ``agent_types`` and ``subscriptions`` are the live local tables: they
        may change while this runs, and it runs until both sides agree.
        Subscriptions go first: a subscription routes nothing until its
        agent type has an owner, so an agentgen host releases the events it
        held for a type (e.g. after a restart) all at once and in order when
        the type is registered, instead of one subscription at a time.
        """
        while True:
            types = [t for t in agent_types if t not in self.agent_types]
            added = [s for s in subscriptions if s.id not in self.subscription_ids]
            removed = [i for i in self.subscription_ids if i not in subscriptions]
            if not (types or added or removed):
                return
            for subscription in added:
                await self.add_subscription(subscription)
            for agent_type in types:
                await self.register_type(agent_type)
            for subscription_id in removed:
                await self.remove_subscription(subscription_id)

    async def register_type(self, agent_type: str) -> None:
        """``RegisterAgent``: make this worker the owner of ``agent_type``."""
        try:
            await self._stream.unary(
                service.REGISTER_AGENT,
                pb.RegisterAgentTypeRequest(type=agent_type),
                pb.RegisterAgentTypeResponse,
            )
        except grpc.aio.AioRpcError as error:
            raise self._refusal(error, f"agent type {agent_type!r}") from error
        self.agent_types.add(agent_type)

    async def add_subscription(self, subscription: Subscription) -> None:
        """``AddSubscription`` with the subscription's own id."""
        request = pb.AddSubscriptionRequest(
            subscription=subscription_to_wire(subscription)
        )
        try:
            await self._stream.unary(
                service.ADD_SUBSCRIPTION, request, pb.AddSubscriptionResponse
            )
        except grpc.aio.AioRpcError as error:
            raise self._refusal(error, repr(subscription)) from error
        self.subscription_ids.add(subscription.id)

    async def remove_subscription(self, subscription_id: str) -> None:
        """``RemoveSubscription``; one the host no longer has counts as removed."""
        try:
            await self._stream.unary(
                service.REMOVE_SUBSCRIPTION,
                pb.RemoveSubscriptionRequest(id=subscription_id),
                pb.RemoveSubscriptionResponse,
            )
        except grpc.aio.AioRpcError as error:
            if is_connection_failure(error):
                raise
            logger.info(
                "the host did not remove subscription %s: %s",
                subscription_id,
                error.details(),
            )
        self.subscription_ids.discard(subscription_id)

    def _refusal(self, error: grpc.aio.AioRpcError, what: str) -> Exception:
        if is_connection_failure(error):
            return error
        return HostRefusedError(
            f"the host at {self._host_address} refused {what}: "
            f"{error.code().name}: {error.details()}"
        )
