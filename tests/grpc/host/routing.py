"""Driving a HostRouter without gRPC: clients are outboxes, frames go in by hand.

A client is a client id with an outbox (``registry.open_channel``), as the
servicer would attach it; frames go in through ``router.on_frame`` and come
out of the outboxes of the clients they are routed to.
"""

from __future__ import annotations

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc.host.client_limits import ClientLimits
from agentgen.runtime.grpc.host.counters import HostCounters
from agentgen.runtime.grpc.host.placement import TypeSharing
from agentgen.runtime.grpc.host.router import HostRouter
from agentgen.runtime.grpc.protocol.outbox import Outbox
from agentgen.runtime.wire.size_limits import DEFAULT_MAX_MESSAGE_SIZE
from tests.support.grpc_harness import wire_subscription


def make_router(
    *,
    hold_unrouted: float = 0.0,
    rpc_timeout: float = 10.0,
    limits: ClientLimits | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    type_sharing: TypeSharing = TypeSharing.EXCLUSIVE,
) -> HostRouter:
    """A router as GrpcHost makes one; unrouted events dropped unless told."""
    return HostRouter(
        rpc_timeout=rpc_timeout,
        outbox_limit=100,
        counters=HostCounters(),
        hold_unrouted=hold_unrouted,
        hold_unrouted_bytes=1024 * 1024,
        max_message_size=max_message_size,
        limits=limits,
        type_sharing=type_sharing,
    )


def client(router: HostRouter, client_id: str, *agent_types: str) -> Outbox[bytes]:
    """Attach ``client_id``'s data stream and register ``agent_types`` as its own."""
    outbox = router.registry.open_channel(client_id)
    for agent_type in agent_types:
        router.registry.register_agent_type(client_id, agent_type)
    return outbox


def subscribe(
    router: HostRouter,
    client_id: str,
    topic_type: str,
    agent_type: str,
    *,
    prefix: bool = False,
) -> str:
    """Add ``client_id``'s subscription; return its id."""
    subscription = wire_subscription(topic_type, agent_type, prefix=prefix)
    router.registry.add_subscription(client_id, subscription)
    return subscription.id


def queued(outbox: Outbox[bytes]) -> list[bytes]:
    """Take every frame queued in ``outbox`` (which is left empty)."""
    frames = []
    while (frame := outbox.get_nowait()) is not None:
        frames.append(frame)
    return frames


def responses(outbox: Outbox[bytes]) -> list[pb.RpcResponse]:
    """The RPC responses queued in ``outbox`` (taken)."""
    return [pb.Message.FromString(frame).response for frame in queued(outbox)]


def forwarded_request(outbox: Outbox[bytes]) -> pb.RpcRequest:
    """The one request queued in a target's ``outbox`` (taken)."""
    [frame] = queued(outbox)
    return pb.Message.FromString(frame).request
