"""agentgen's runtimes and the types generated agents use.

Names follow autogen_core where they exist (``AgentId``, ``TopicId``,
``TypeSubscription``, ``MessageContext``, ``publish_message``,
``send_message``). ``GrpcWorkerRuntime``, ``GrpcHost`` and
``NatsWorkerRuntime`` are imported lazily so that in-process users do not pay
for importing grpc or nats-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .agent import Agent, AgentClient, Handler, expect_reply
from .base import DEFAULT_MAILBOX_CAPACITY, DEFAULT_RPC_TIMEOUT, BaseRuntime
from .context import CancellationToken, MessageContext
from .errors import (
    AgentgenError,
    MessageTooLargeError,
    NoDefaultTopicError,
    NotDeliveredError,
    RemoteError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
    UnexpectedReplyError,
    UnhandledMessageError,
)
from .event_loop import EventLoopUnavailableError, LoopChoice, run
from .ids import AgentId, TopicId
from .inprocess import InProcessRuntime
from .interface import AgentFactory, AgentRuntime
from .serialization import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    MessageSerializer,
    ProtobufJsonSerializer,
    ProtobufSerializer,
    SerializerRegistry,
    SerializerTable,
    UnknownPayload,
    serializer_table,
    type_name,
)
from .subscriptions import (
    DefaultSubscription,
    Subscription,
    TypePrefixSubscription,
    TypeSubscription,
)
from .topics import default_topic_type

if TYPE_CHECKING:
    from .grpc import (
        AuthenticationError,
        ClientLimits,
        ClientTls,
        ConnectionLostError,
        GrpcHost,
        GrpcWorkerRuntime,
        HostRefusedError,
        ServerTls,
        TypeSharing,
    )
    from .nats import NatsWorkerRuntime

__all__ = [
    "DEFAULT_MAILBOX_CAPACITY",
    "DEFAULT_RPC_TIMEOUT",
    "JSON_CONTENT_TYPE",
    "PROTOBUF_CONTENT_TYPE",
    "Agent",
    "AgentClient",
    "AgentFactory",
    "AgentId",
    "AgentRuntime",
    "AgentgenError",
    "AuthenticationError",
    "BaseRuntime",
    "CancellationToken",
    "ClientLimits",
    "ClientTls",
    "ConnectionLostError",
    "DefaultSubscription",
    "EventLoopUnavailableError",
    "GrpcHost",
    "GrpcWorkerRuntime",
    "Handler",
    "HostRefusedError",
    "InProcessRuntime",
    "LoopChoice",
    "MessageContext",
    "MessageSerializer",
    "MessageTooLargeError",
    "NatsWorkerRuntime",
    "NoDefaultTopicError",
    "NotDeliveredError",
    "ProtobufJsonSerializer",
    "ProtobufSerializer",
    "RemoteError",
    "RpcTimeoutError",
    "SerializationError",
    "SerializerRegistry",
    "SerializerTable",
    "ServerTls",
    "Subscription",
    "TopicId",
    "TypePrefixSubscription",
    "TypeSharing",
    "TypeSubscription",
    "UndeliverableError",
    "UnexpectedReplyError",
    "UnhandledMessageError",
    "UnknownPayload",
    "default_topic_type",
    "expect_reply",
    "run",
    "serializer_table",
    "type_name",
]

_LAZY_GRPC = frozenset(
    {
        "AuthenticationError",
        "ClientLimits",
        "ClientTls",
        "ConnectionLostError",
        "GrpcHost",
        "GrpcWorkerRuntime",
        "HostRefusedError",
        "ServerTls",
        "TypeSharing",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_GRPC:
        from . import grpc

        return getattr(grpc, name)
    if name == "NatsWorkerRuntime":
        from . import nats

        return nats.NatsWorkerRuntime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
