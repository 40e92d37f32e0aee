"""Watching deliveries: what tests, tracing and metrics hook into.

An observer added with ``LocalAgents.add_observer`` is called around every
delivery to a local agent: :meth:`DeliveryObserver.before` in the agent's
task just before its handler runs (its return value is handed back), and
:meth:`DeliveryObserver.after` once the handler finished, with the failure if
it raised or was cancelled. Anything ``before`` sets in the task's context
(an OpenTelemetry span, say) is seen by the handler. With no observer, a
delivery pays one attribute check.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..context import MessageContext
from ..ids import AgentId

__all__ = ["DeliveryObserver"]


class DeliveryObserver(Protocol):
    """Called around each delivery to a local agent (see the module docstring)."""

    def before(self, agent_id: AgentId, message: Any, ctx: MessageContext) -> object:
        """The handler of ``agent_id`` is about to handle ``message``."""

    def after(self, token: object, failure: BaseException | None) -> None:
        """It finished; ``token`` is what :meth:`before` returned."""
