"""The ``agents.AgentRpc`` service of the host, on top of :class:`HostRouter`.

Both streams carry raw bytes (no (de)serializers), so the router can forward
frames exactly as received. Every call is admitted the same way: the token
first (when the host has one: ``UNAUTHENTICATED``), then the ``client-id``
header (``INVALID_ARGUMENT``). Unary requests are parsed here too, so bytes
that are no request end as ``INVALID_ARGUMENT`` and one warning, not as an
exception inside gRPC.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from agentgen.protos import agent_worker_pb2 as pb

from ...log_text import clip
from ...wire import batches
from ...wire.batches import BatchReader
from ..protocol import batching, service
from ..protocol.auth import TokenCheck
from ..protocol.outbox import Outbox
from .counters import HostCounters
from .registry import ClientLimitError, HostRejection, NotOwnerError
from .router import HostRouter

__all__ = ["AgentRpcServicer"]

logger = logging.getLogger("agentgen.runtime.grpc.host")

_FrameContext = grpc.aio.ServicerContext[bytes, bytes]
_Context = grpc.aio.ServicerContext[Any, Any]
_Request = TypeVar("_Request", bound=Message)
_FrameHandler = Callable[[str, bytes], Awaitable[None]]
_Argument = TypeVar("_Argument")
_MARKER = ((service.HOST_MARKER_HEADER, "1"),)
_BATCH_MARKER = (*_MARKER, (batching.BATCH_HEADER, "1"))
_REJECTION_CODES: dict[type[HostRejection], grpc.StatusCode] = {
    NotOwnerError: grpc.StatusCode.PERMISSION_DENIED,
    ClientLimitError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


@dataclass(frozen=True, slots=True)
class _Undecodable:
    """What a unary handler gets instead of a request that does not parse."""

    reason: str


def _lenient(cls: type[_Request]) -> Callable[[bytes], _Request | _Undecodable]:
    def parse(body: bytes) -> _Request | _Undecodable:
        try:
            return cls.FromString(body)
        except DecodeError:
            return _Undecodable(
                f"the request is not a valid {cls.DESCRIPTOR.full_name} "
                f"({len(body)} bytes)"
            )

    return parse


class AgentRpcServicer:
    """Serves one host's streams and registration calls."""

    def __init__(
        self,
        router: HostRouter,
        counters: HostCounters,
        token_check: TokenCheck | None = None,
        *,
        batching: bool = True,
    ) -> None:
        self._router = router
        self._registry = router.registry
        self._counters = counters
        self._reader = BatchReader(counters, logger, "client {}")
        self._token_check = token_check
        self._batching = batching
        sharing = ((service.TYPE_SHARING_HEADER, router.placement.mode.value),)
        self._marker = (*(_BATCH_MARKER if batching else _MARKER), *sharing)

    def generic_handlers(self) -> tuple[grpc.GenericRpcHandler[Any, Any], ...]:
        """The handlers to add to a ``grpc.aio`` server (the batch one if on)."""
        if not self._batching:
            return (self.generic_handler(),)
        batch = grpc.method_handlers_generic_handler(
            batching.BATCH_SERVICE,
            {
                batching.BATCH_METHOD: grpc.stream_stream_rpc_method_handler(
                    self.open_batch_channel
                ),
            },
        )
        return (self.generic_handler(), batch)

    def generic_handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        """The handler to add to a ``grpc.aio`` server."""
        unary = grpc.unary_unary_rpc_method_handler
        return grpc.method_handlers_generic_handler(
            service.SERVICE_NAME,
            {
                service.OPEN_CHANNEL: grpc.stream_stream_rpc_method_handler(
                    self.open_channel
                ),
                service.OPEN_CONTROL_CHANNEL: grpc.stream_stream_rpc_method_handler(
                    self.open_control_channel
                ),
                service.REGISTER_AGENT: unary(
                    self.register_agent,
                    request_deserializer=_lenient(pb.RegisterAgentTypeRequest),
                    response_serializer=pb.RegisterAgentTypeResponse.SerializeToString,
                ),
                service.ADD_SUBSCRIPTION: unary(
                    self.add_subscription,
                    request_deserializer=_lenient(pb.AddSubscriptionRequest),
                    response_serializer=pb.AddSubscriptionResponse.SerializeToString,
                ),
                service.REMOVE_SUBSCRIPTION: unary(
                    self.remove_subscription,
                    request_deserializer=_lenient(pb.RemoveSubscriptionRequest),
                    response_serializer=pb.RemoveSubscriptionResponse.SerializeToString,
                ),
                service.GET_SUBSCRIPTIONS: unary(
                    self.get_subscriptions,
                    request_deserializer=_lenient(pb.GetSubscriptionsRequest),
                    response_serializer=pb.GetSubscriptionsResponse.SerializeToString,
                ),
            },
        )

    # Streams ----------------------------------------------------------------

    async def open_channel(
        self, frames: AsyncIterator[bytes], context: _FrameContext
    ) -> None:
        """The data stream of one worker."""
        client_id = await self._caller(context)
        outbox = self._registry.open_channel(client_id)
        try:
            await context.send_initial_metadata(self._marker)
            await self._serve_stream(
                client_id, frames, context, outbox, self._router.on_frame
            )
        finally:
            self._registry.close_channel(client_id, outbox)

    async def open_batch_channel(
        self, batches: AsyncIterator[bytes], context: _FrameContext
    ) -> None:
        """The data stream of one agentgen worker, several frames per message.

        Each frame of a batch is routed exactly as one of ``OpenChannel``
        (checks, counters and all); see :mod:`.batching`.
        """
        client_id = await self._caller(context)
        outbox = self._registry.open_channel(client_id)
        try:
            await context.send_initial_metadata(self._marker)
            await self._serve_stream(
                client_id,
                batches,
                context,
                outbox,
                self._router.on_frame,
                batched=True,
            )
        finally:
            self._registry.close_channel(client_id, outbox)

    async def open_control_channel(
        self, frames: AsyncIterator[bytes], context: _FrameContext
    ) -> None:
        """The control stream of one worker (messages routed by destination)."""
        client_id = await self._caller(context)
        outbox = self._registry.open_control_channel(client_id)
        try:
            await context.send_initial_metadata(self._marker)
            await self._serve_stream(
                client_id, frames, context, outbox, self._router.on_control_frame
            )
        finally:
            self._registry.close_control_channel(client_id, outbox)

    async def _serve_stream(
        self,
        client_id: str,
        frames: AsyncIterator[bytes],
        context: _FrameContext,
        outbox: Outbox[bytes],
        on_frame: _FrameHandler,
        *,
        batched: bool = False,
    ) -> None:
        reader = asyncio.create_task(
            self._read(client_id, frames, outbox, on_frame, batched=batched)
        )
        try:
            while (frame := await outbox.get()) is not None:
                if batched:
                    frame = batches.pack(batching.take_queued(outbox, frame, len))
                await context.write(frame)
        finally:
            reader.cancel()

    async def _read(
        self,
        client_id: str,
        frames: AsyncIterator[bytes],
        outbox: Outbox[bytes],
        on_frame: _FrameHandler,
        *,
        batched: bool = False,
    ) -> None:
        try:
            async for message in frames:
                for frame in self._frames_of(client_id, message, batched):
                    try:
                        await on_frame(client_id, frame)
                    except Exception:
                        self._counters.internal_errors += 1
                        logger.exception(
                            "error routing a %d-byte frame from client %s",
                            len(frame),
                            client_id,
                        )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.info(
                "stream of client %s failed: %s", clip(client_id), clip(repr(error))
            )
        finally:
            # Ends the writer once what is queued has been written.
            outbox.close()

    def _frames_of(self, client_id: str, message: bytes, batched: bool) -> list[bytes]:
        """The frames of one stream message; none if it is a malformed batch."""
        if not batched:
            return [message]
        return self._reader.frames(message, client_id)

    # Registration calls -----------------------------------------------------

    async def register_agent(
        self,
        request: pb.RegisterAgentTypeRequest | _Undecodable,
        context: _Context,
    ) -> pb.RegisterAgentTypeResponse:
        """Make the caller the owner of an agent type."""
        client_id = await self._caller(context)
        parsed = await self._parsed(request, client_id, context)
        await _rejecting(
            context, self._registry.register_agent_type, client_id, parsed.type
        )
        return pb.RegisterAgentTypeResponse()

    async def add_subscription(
        self,
        request: pb.AddSubscriptionRequest | _Undecodable,
        context: _Context,
    ) -> pb.AddSubscriptionResponse:
        """Add a subscription with the id the caller chose."""
        client_id = await self._caller(context)
        parsed = await self._parsed(request, client_id, context)
        await _rejecting(
            context, self._registry.add_subscription, client_id, parsed.subscription
        )
        return pb.AddSubscriptionResponse()

    async def remove_subscription(
        self,
        request: pb.RemoveSubscriptionRequest | _Undecodable,
        context: _Context,
    ) -> pb.RemoveSubscriptionResponse:
        """Remove a subscription by id."""
        client_id = await self._caller(context)
        parsed = await self._parsed(request, client_id, context)
        await _rejecting(
            context, self._registry.remove_subscription, client_id, parsed.id
        )
        return pb.RemoveSubscriptionResponse()

    async def get_subscriptions(
        self,
        request: pb.GetSubscriptionsRequest | _Undecodable,
        context: _Context,
    ) -> pb.GetSubscriptionsResponse:
        """Every subscription the host knows."""
        client_id = await self._caller(context)
        await self._parsed(request, client_id, context)
        await context.send_initial_metadata(self._marker)
        return pb.GetSubscriptionsResponse(
            subscriptions=self._registry.wire_subscriptions()
        )

    async def _parsed(
        self, request: _Request | _Undecodable, client_id: str, context: _Context
    ) -> _Request:
        """The request, or INVALID_ARGUMENT (counted, logged) if it did not parse."""
        if not isinstance(request, _Undecodable):
            return request
        self._counters.malformed_frames += 1
        logger.warning(
            "refused a call from client %s: %s", clip(client_id), request.reason
        )
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
        raise AssertionError("unreachable: abort raises")

    async def _caller(self, context: _Context) -> str:
        """The caller's client id, once its token (if the host has one) is right."""
        metadata = context.invocation_metadata()
        if self._token_check is not None and not self._token_check.admits(metadata):
            self._counters.refused_calls += 1
            logger.warning(
                "refused a call from %s: missing or wrong token", clip(context.peer())
            )
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or wrong token: this host requires 'authorization: Bearer "
                "<token>' metadata (GrpcWorkerRuntime(auth_token=...) or "
                "AGENTGEN_AUTH_TOKEN)",
            )
            raise AssertionError("unreachable: abort raises")
        client_id = service.client_id_from(metadata)
        if client_id is None:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "client-id metadata not found."
            )
            raise AssertionError("unreachable: abort raises")
        return client_id


async def _rejecting(
    context: grpc.aio.ServicerContext[Any, Any],
    call: Callable[[str, _Argument], None],
    client_id: str,
    argument: _Argument,
) -> None:
    """Run a registration call; a rejection aborts with its status code."""
    try:
        call(client_id, argument)
    except HostRejection as rejection:
        code = _REJECTION_CODES.get(type(rejection), grpc.StatusCode.INVALID_ARGUMENT)
        logger.info(
            "refused a call from client %s (%s): %s",
            clip(client_id),
            code.name,
            clip(str(rejection), 400),
        )
        await context.abort(code, str(rejection))
