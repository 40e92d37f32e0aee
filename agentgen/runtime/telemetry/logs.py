"""Log records that say which agent, message and span they come from.

:func:`install_log_context` (called by every runtime's ``start()``) wraps
:mod:`logging`'s record factory once; :func:`uninstall_log_context` puts the
previous factory back. Every record then has the attributes of
:data:`RECORD_ATTRIBUTES`, usable in a format string (``%(agent_id)s``):
``agent_id`` (``"type/key"``) and ``message_id`` of the message being
delivered in the task that logs (a handler, or the runtime delivering it),
``trace_id`` and ``span_id`` (32 and 16 hex digits) of the current span when
tracing is on; each is ``None`` when unknown. Records of tasks a handler
started carry its agent's message of the moment.

Cost: a mailbox stores the envelope it delivers in one attribute; the
factory reads it through a context variable that each mailbox's task
context holds (set once per mailbox), only when a record is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Final, Protocol

from ..context import MessageContext
from ..ids import AgentId

__all__ = [
    "CURRENT_MAILBOX",
    "RECORD_ATTRIBUTES",
    "Delivering",
    "install_log_context",
    "set_span_ids",
    "uninstall_log_context",
]

RECORD_ATTRIBUTES: Final = ("agent_id", "message_id", "trace_id", "span_id")


class Delivering(Protocol):
    """What a mailbox tells the log records of its task."""

    @property
    def agent_id(self) -> AgentId | None:
        """The agent whose mailbox it is."""

    @property
    def delivering(self) -> tuple[Any, MessageContext, Any] | None:
        """The envelope being delivered, if any."""


CURRENT_MAILBOX: ContextVar[Delivering | None] = ContextVar(
    "agentgen_current_mailbox", default=None
)
"""The mailbox whose task context this is (set once in each mailbox's context)."""

_previous: Callable[..., logging.LogRecord] | None = None
_span_ids: Callable[[], tuple[str, str] | None] | None = None


def set_span_ids(reader: Callable[[], tuple[str, str] | None] | None) -> None:
    """Where records get the current trace and span ids (set when tracing starts)."""
    global _span_ids
    _span_ids = reader


def install_log_context() -> None:
    """Give every log record the :data:`RECORD_ATTRIBUTES` (idempotent)."""
    global _previous
    if _previous is None:
        _previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_make_record)


def uninstall_log_context() -> None:
    """Put back the record factory that :func:`install_log_context` wrapped."""
    global _previous
    if _previous is not None:
        if logging.getLogRecordFactory() is _make_record:
            logging.setLogRecordFactory(_previous)
        _previous = None


def _make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = (_previous or logging.LogRecord)(*args, **kwargs)
    mailbox = CURRENT_MAILBOX.get()
    envelope = None if mailbox is None else mailbox.delivering
    if envelope is None or mailbox is None:
        record.agent_id = record.message_id = None
    else:
        record.agent_id = str(mailbox.agent_id)
        record.message_id = envelope[1].message_id
    ids = None if _span_ids is None else _span_ids()
    record.trace_id, record.span_id = (None, None) if ids is None else ids
    return record
