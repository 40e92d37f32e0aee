"""The ``agents.AgentRpc`` service of the host, on top of :class:`HostRouter`.

Both streams carry raw bytes (no (de)serializers), so the router can forward
frames exactly as received. Every call is admitted the same way: the token
first (when the host has one: ``UNAUTHENTICATED``), then the ``client-id``
header (``INVALID_ARGUMENT``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from agentgen.protos import agent_worker_pb2 as pb

from . import service
from .auth import TokenCheck
from .counters import HostCounters
from .host_router import ClientLimitError, HostRejection, HostRouter, NotOwnerError
from .log_text import clip
from .outbox import Outbox

__all__ = ["AgentRpcServicer"]

logger = logging.getLogger("agentgen.runtime.grpc.host")

_FrameContext = grpc.aio.ServicerContext[bytes, bytes]
_FrameHandler = Callable[[str, bytes], Awaitable[None]]
_Argument = TypeVar("_Argument")
_MARKER = ((service.HOST_MARKER_HEADER, "1"),)
_REJECTION_CODES: dict[type[HostRejection], grpc.StatusCode] = {
    NotOwnerError: grpc.StatusCode.PERMISSION_DENIED,
    ClientLimitError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class AgentRpcServicer:
    """Serves one host's streams and registration calls."""

    def __init__(
        self,
        router: HostRouter,
        counters: HostCounters,
        token_check: TokenCheck | None = None,
    ) -> None:
        self._router = router
        self._counters = counters
        self._token_check = token_check

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
                    request_deserializer=pb.RegisterAgentTypeRequest.FromString,
                    response_serializer=pb.RegisterAgentTypeResponse.SerializeToString,
                ),
                service.ADD_SUBSCRIPTION: unary(
                    self.add_subscription,
                    request_deserializer=pb.AddSubscriptionRequest.FromString,
                    response_serializer=pb.AddSubscriptionResponse.SerializeToString,
                ),
                service.REMOVE_SUBSCRIPTION: unary(
                    self.remove_subscription,
                    request_deserializer=pb.RemoveSubscriptionRequest.FromString,
                    response_serializer=pb.RemoveSubscriptionResponse.SerializeToString,
                ),
                service.GET_SUBSCRIPTIONS: unary(
                    self.get_subscriptions,
                    request_deserializer=pb.GetSubscriptionsRequest.FromString,
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
        outbox = self._router.open_channel(client_id)
        try:
            await context.send_initial_metadata(_MARKER)
            await self._serve_stream(
                client_id, frames, context, outbox, self._router.on_frame
            )
        finally:
            self._router.close_channel(client_id, outbox)

    async def open_control_channel(
        self, frames: AsyncIterator[bytes], context: _FrameContext
    ) -> None:
        """The control stream of one worker (messages routed by destination)."""
        client_id = await self._caller(context)
        outbox = self._router.open_control_channel(client_id)
        try:
            await context.send_initial_metadata(_MARKER)
            await self._serve_stream(
                client_id, frames, context, outbox, self._router.on_control_frame
            )
        finally:
            self._router.close_control_channel(client_id, outbox)

    async def _serve_stream(
        self,
        client_id: str,
        frames: AsyncIterator[bytes],
        context: _FrameContext,
        outbox: Outbox[bytes],
        on_frame: _FrameHandler,
    ) -> None:
        reader = asyncio.create_task(self._read(client_id, frames, outbox, on_frame))
        try:
            while (frame := await outbox.get()) is not None:
                await context.write(frame)
        finally:
            reader.cancel()

    async def _read(
        self,
        client_id: str,
        frames: AsyncIterator[bytes],
        outbox: Outbox[bytes],
        on_frame: _FrameHandler,
    ) -> None:
        try:
            async for frame in frames:
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

    # Registration calls -----------------------------------------------------

    async def register_agent(
        self,
        request: pb.RegisterAgentTypeRequest,
        context: grpc.aio.ServicerContext[
            pb.RegisterAgentTypeRequest, pb.RegisterAgentTypeResponse
        ],
    ) -> pb.RegisterAgentTypeResponse:
        """Make the caller the owner of an agent type."""
        client_id = await self._caller(context)
        await _rejecting(
            context, self._router.register_agent_type, client_id, request.type
        )
        return pb.RegisterAgentTypeResponse()

    async def add_subscription(
        self,
        request: pb.AddSubscriptionRequest,
        context: grpc.aio.ServicerContext[
            pb.AddSubscriptionRequest, pb.AddSubscriptionResponse
        ],
    ) -> pb.AddSubscriptionResponse:
        """Add a subscription with the id the caller chose."""
        client_id = await self._caller(context)
        await _rejecting(
            context, self._router.add_subscription, client_id, request.subscription
        )
        return pb.AddSubscriptionResponse()

    async def remove_subscription(
        self,
        request: pb.RemoveSubscriptionRequest,
        context: grpc.aio.ServicerContext[
            pb.RemoveSubscriptionRequest, pb.RemoveSubscriptionResponse
        ],
    ) -> pb.RemoveSubscriptionResponse:
        """Remove a subscription by id."""
        client_id = await self._caller(context)
        await _rejecting(
            context, self._router.remove_subscription, client_id, request.id
        )
        return pb.RemoveSubscriptionResponse()

    async def get_subscriptions(
        self,
        request: pb.GetSubscriptionsRequest,
        context: grpc.aio.ServicerContext[
            pb.GetSubscriptionsRequest, pb.GetSubscriptionsResponse
        ],
    ) -> pb.GetSubscriptionsResponse:
        """Every subscription the host knows."""
        await self._caller(context)
        await context.send_initial_metadata(_MARKER)
        return pb.GetSubscriptionsResponse(subscriptions=self._router.subscriptions())

    async def _caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
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
