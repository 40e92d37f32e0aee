"""What every agentgen runtime shares: lifecycle, registration, subscriptions, state.

A transport (in-process, gRPC) subclasses :class:`BaseRuntime` and decides
where published messages and RPCs go. The base composes the two
transport-independent components: :class:`~.local.LocalAgents` (the agents of
this process, their mailboxes, delivery and idle count) and
:class:`~.subscription_table.SubscriptionTable` (local subscription matching).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from .agent import Agent
from .deadlines import Deadlines
from .ids import AgentId, TopicId
from .local import DEFAULT_BACKLOG_LIMIT, DEFAULT_MAILBOX_CAPACITY, LocalAgents
from .serialization import MessageSerializer, SerializerRegistry, SerializerTable
from .signals import STOP_SIGNALS, signals_set
from .subscription_table import SubscriptionTable
from .subscriptions import Subscription, TypePrefixSubscription, TypeSubscription
from .telemetry import TelemetryOptions, install_log_context
from .telemetry.catalog import QUEUED_MESSAGES
from .telemetry.metrics import MetricSet
from .telemetry.runtime_telemetry import RuntimeTelemetry
from .topics import default_topic_for
from .uuids import IdSequence

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from .interface import AgentFactory, AgentRuntime

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "DEFAULT_MAILBOX_CAPACITY",
    "DEFAULT_RPC_TIMEOUT",
    "BaseRuntime",
]

DEFAULT_RPC_TIMEOUT = 30.0
"""Seconds an RPC waits for its reply unless told otherwise."""

A = TypeVar("A", bound=Agent)


class BaseRuntime:
    """Lifecycle, registration, subscriptions and state shared by runtimes.

    Subclasses implement ``publish_message`` and ``send_message`` and may
    override the transport hooks (``_on_start``, ``_on_stop``,
    ``_remote_register_type``, ``_remote_add_subscription``,
    ``_remote_remove_subscription``) and ``_metric_set``. Telemetry
    (``tracer_provider``, ``meter_provider``, ``trace_links_only``): see the
    README's "Observability"; ``_telemetry`` is ``None`` while it is off.
    """

    def __init__(
        self,
        *,
        rpc_timeout: float = DEFAULT_RPC_TIMEOUT,
        mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        trace_links_only: bool = False,
    ) -> None:
        if rpc_timeout <= 0:
            raise ValueError("rpc_timeout must be positive")
        self.rpc_timeout = rpc_timeout
        self.mailbox_capacity = mailbox_capacity
        self.serializers = SerializerRegistry()
        self.local = LocalAgents(
            cast("AgentRuntime", self),
            mailbox_capacity=mailbox_capacity,
            backlog_limit=backlog_limit,
        )
        """The agents of this process and their mailboxes."""
        self.subscription_table = SubscriptionTable()
        """This runtime's subscriptions (local matching)."""
        self._stop_requested: asyncio.Event | None = None
        self._running = False
        self._ids = IdSequence()
        self._deadlines = Deadlines()
        self._telemetry_options = TelemetryOptions(
            tracer_provider, meter_provider, trace_links_only
        )
        self._telemetry: RuntimeTelemetry | None = None
        self._unobserve: Callable[[], None] | None = None
        self._metrics: MetricSet | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` was not."""
        return self._running

    async def start(self) -> None:
        """Start processing messages."""
        if self._running:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self.local.start(asyncio.get_running_loop())
        install_log_context()
        self._start_telemetry()
        self._stop_requested = asyncio.Event()
        await self._on_start()
        self._running = True

    async def stop(self) -> None:
        """Stop: cancel queued work, fail pending RPCs, close every agent."""
        if not self._running:
            return
        self._running = False
        await self.local.close("the runtime stopped")
        await self._on_stop()
        self._deadlines.clear()
        await self.local.instances.close_all()
        if self._unobserve is not None:
            self._unobserve()
            self._unobserve = None
        self._telemetry = None

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued, being handled or being sent, then stop."""
        self._require_running()
        await self.local.work.wait_idle()
        await self.stop()

    def request_stop(self) -> None:
        """Ask :meth:`stop_when_signal` to stop (e.g. from inside a handler)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def stop_when_signal(self, signals: Sequence[int] = STOP_SIGNALS) -> None:
        """Wait for one of ``signals`` (or :meth:`request_stop`), then stop."""
        self._require_running()
        assert self._stop_requested is not None
        with signals_set(self._stop_requested, signals):
            await self._stop_requested.wait()
        await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _require_running(self) -> None:
        if not self._running:
            raise RuntimeError(
                f"{type(self).__name__} is not running: await runtime.start() "
                "or use 'async with runtime:'"
            )

    @property
    def queued_messages(self) -> int:
        """Messages queued in this runtime's mailboxes, not yet being handled."""
        return self.local.backlog.count

    # -- telemetry -----------------------------------------------------------

    def _start_telemetry(self) -> None:
        """Decide whether this run traces and measures (README "Observability")."""
        telemetry = RuntimeTelemetry.start(self._telemetry_options, self._metrics_once)
        self._telemetry = telemetry
        if telemetry is not None:
            self._unobserve = self.local.add_observer(telemetry)

    def _metrics_once(self) -> MetricSet:
        if self._metrics is None:  # one set per runtime, exported once
            self._metrics = self._metric_set()
        return self._metrics

    def _metric_set(self) -> MetricSet:
        """This runtime's counters and gauges (a transport adds its own)."""
        metric_set = MetricSet()
        backlog = self.local.backlog
        metric_set.add(QUEUED_MESSAGES, lambda: backlog.count)
        return metric_set

    # -- transport hooks ---------------------------------------------------

    async def _on_start(self) -> None:
        """Transport start-up (connect); called by :meth:`start`."""

    async def _on_stop(self) -> None:
        """Transport shut-down; called by :meth:`stop` after mailboxes close."""

    async def _remote_register_type(self, agent_type: str) -> None:
        """Tell the transport this process hosts ``agent_type``."""

    async def _remote_add_subscription(self, subscription: Subscription) -> None:
        """Tell the transport about a new subscription."""

    async def _remote_remove_subscription(self, subscription_id: str) -> None:
        """Tell the transport a subscription is gone."""

    # -- registration ------------------------------------------------------

    @property
    def agent_types(self) -> tuple[str, ...]:
        """The agent types registered in this runtime."""
        return tuple(self.local.instances.factories)

    async def register_factory(self, agent_type: str, factory: AgentFactory) -> str:
        """Register ``agent_type``; ``factory`` makes one agent per id."""
        instances = self.local.instances
        instances.register(agent_type, factory)
        try:
            await self._remote_register_type(agent_type)
        except BaseException:
            instances.unregister(agent_type)
            raise
        return agent_type

    async def register_agent_class(
        self,
        cls: type[A],
        factory: Callable[[], A] | None = None,
        *,
        agent_type: str | None = None,
    ) -> str:
        """Register an agent class with its subscriptions and serializers.

        Adds one TypeSubscription per topic of ``cls.TOPIC_SUBSCRIPTIONS``,
        one TypePrefixSubscription per prefix of ``cls.PREFIX_SUBSCRIPTIONS``
        and the direct-message prefix ``"<type>:"`` (as AutoGen does).
        """
        resolved_type = agent_type or cls.AGENT_TYPE
        if not resolved_type:
            raise ValueError(f"{cls.__name__} has no AGENT_TYPE; pass agent_type=")
        if factory is None and inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            raise TypeError(
                f"{cls.__name__} is abstract (no implementation of {missing}): "
                "register the subclass that implements its handlers"
            )
        await self.register_factory(resolved_type, factory or cls)
        for topic_type in cls.TOPIC_SUBSCRIPTIONS:
            await self.add_subscription(TypeSubscription(topic_type, resolved_type))
        for prefix in (*cls.PREFIX_SUBSCRIPTIONS, f"{resolved_type}:"):
            await self.add_subscription(TypePrefixSubscription(prefix, resolved_type))
        for handler in cls.HANDLERS:
            self.serializers.add_classes(handler.request)
            if handler.response is not None:
                self.serializers.add_classes(handler.response)
        return resolved_type

    def add_message_serializer(
        self,
        serializers: (
            SerializerTable | Iterable[MessageSerializer[Any]] | MessageSerializer[Any]
        ),
    ) -> None:
        """Register serializers (e.g. a generated module's ``SERIALIZERS``)."""
        self.serializers.add(serializers)

    # -- subscriptions -----------------------------------------------------

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription added to this runtime."""
        return tuple(self.subscription_table)

    async def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription; a duplicate (same id or rule) is refused."""
        table = self.subscription_table
        existing = table.duplicate_of(subscription)
        if existing is not None:
            raise ValueError(f"subscription already exists: {existing!r}")
        await self._remote_add_subscription(subscription)
        table.add(subscription)

    async def remove_subscription(self, subscription_id: str) -> None:
        """Remove the subscription with this id."""
        if subscription_id not in self.subscription_table:
            raise LookupError(f"no subscription with id {subscription_id!r}")
        await self._remote_remove_subscription(subscription_id)
        self.subscription_table.remove(subscription_id)

    def recipients(self, topic_id: TopicId) -> tuple[AgentId, ...]:
        """The agents subscribed to ``topic_id`` (each once, in order)."""
        return self.subscription_table.recipients(topic_id)

    # -- messages ----------------------------------------------------------

    @staticmethod
    def resolve_topic(message: Any, topic_id: TopicId | None) -> TopicId:
        """``topic_id``, or the message type's default topic."""
        return topic_id if topic_id is not None else default_topic_for(message)

    def new_message_id(self) -> str:
        """A globally unique message or request id (see :class:`IdSequence`)."""
        return self._ids.next()

    # -- agents and state --------------------------------------------------

    async def get_agent(self, agent_id: AgentId) -> Agent:
        """The agent with this id, created by its type's factory if needed."""
        return await self.local.instances.get(agent_id)

    async def agent_save_state(self, agent_id: AgentId) -> Mapping[str, Any]:
        """One agent's state."""
        return await self.local.instances.agent_save_state(agent_id)

    async def agent_load_state(
        self, agent_id: AgentId, state: Mapping[str, Any]
    ) -> None:
        """Restore one agent's state (creating the agent if needed)."""
        await self.local.instances.agent_load_state(agent_id, state)

    async def save_state(self) -> Mapping[str, Any]:
        """The state of every agent created so far, keyed by ``"type/key"``."""
        return await self.local.instances.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        await self.local.instances.load_state(state)
