from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
TOPIC_FIELD_NUMBER: _ClassVar[int]
topic: _descriptor.FieldDescriptor
AGENT_FIELD_NUMBER: _ClassVar[int]
agent: _descriptor.FieldDescriptor

class AgentOptions(_message.Message):
    __slots__ = ("type", "subscribe", "subscribe_prefix", "default_subscription")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    type: str
    subscribe: _containers.RepeatedScalarFieldContainer[str]
    subscribe_prefix: _containers.RepeatedScalarFieldContainer[str]
    default_subscription: bool
    def __init__(self, type: _Optional[str] = ..., subscribe: _Optional[_Iterable[str]] = ..., subscribe_prefix: _Optional[_Iterable[str]] = ..., default_subscription: _Optional[bool] = ...) -> None: ...
