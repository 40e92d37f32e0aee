"""What every runtime shares, whatever carries its messages: local agents.

:class:`LocalAgents` makes the agents of this process and delivers messages
to them through per-agent mailboxes; the in-process runtime, the gRPC worker
and any other transport use it by composition.
"""

from .agents import (
    DEFAULT_BACKLOG_LIMIT,
    DEFAULT_MAILBOX_CAPACITY,
    EAGER_DEPTH_LIMIT,
    LocalAgents,
)
from .instances import AgentInstances
from .mailbox import Backlog, Envelope, Mailbox
from .observers import DeliveryObserver
from .work import WorkCount

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "DEFAULT_MAILBOX_CAPACITY",
    "EAGER_DEPTH_LIMIT",
    "AgentInstances",
    "Backlog",
    "DeliveryObserver",
    "Envelope",
    "LocalAgents",
    "Mailbox",
    "WorkCount",
]
