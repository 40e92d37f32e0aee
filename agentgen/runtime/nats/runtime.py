"""``NatsWorkerRuntime``: agents of this process, sharing NATS with other workers.

No host: every worker watches the routing state in a JetStream key-value
bucket (:mod:`.membership`, :mod:`.routing`), sends each event and RPC
straight to the worker owning its agent key (:mod:`.outbound`), and serves
what is routed to it (:mod:`.inbound`). Several workers may serve one agent
type: each key is served by exactly one of them (rendezvous hashing), and a
worker that stops cleanly hands its agents' state to the new owners
(:mod:`.handoff`). The options are described in the README's "Scaling out on
NATS"; the path of a message in ``docs/architecture.md``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..base import (
    DEFAULT_BACKLOG_LIMIT,
    DEFAULT_MAILBOX_CAPACITY,
    DEFAULT_RPC_TIMEOUT,
    BaseRuntime,
)
from ..ids import AgentId, TopicId
from ..subscriptions import Subscription
from ..wire.codec import PayloadCodec
from ..wire.size_limits import DEFAULT_MAX_MESSAGE_SIZE
from .connection import NatsSettings, connect
from .counters import NatsCounters
from .handoff import Handoff, StateBoard
from .inbound import NatsInbound
from .membership import Membership
from .outbound import NatsOutbound
from .routing import RoutingView
from .subjects import DEFAULT_NAMESPACE, Subjects

if TYPE_CHECKING:
    import ssl

    from nats.aio.client import Client
    from nats.aio.subscription import Subscription as NatsSubscription
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ..telemetry.metrics import MetricSet

__all__ = ["NatsWorkerRuntime"]

logger = logging.getLogger("agentgen.runtime.nats")

_PENDING_MESSAGES = 1_000_000
_PENDING_BYTES = 512 * 1024 * 1024


class NatsWorkerRuntime(BaseRuntime):
    """A runtime whose workers meet on NATS, with no host (see the module).

    ``servers`` (default: ``AGENTGEN_NATS_URL``, else
    ``nats://127.0.0.1:4222``) is a URL or a list of them; ``namespace``
    separates deployments sharing one NATS. ``lease`` is how long a crashed
    worker's keys stay with it; ``kv_replicas`` the routing bucket's copies
    (3 on a three-server cluster).
    """

    def __init__(
        self,
        servers: str | Sequence[str] | None = None,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        tls: ssl.SSLContext | None = None,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        nkeys_seed: str | None = None,
        user_credentials: str | None = None,
        lease: float = 10.0,
        kv_replicas: int = 1,
        handoff_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        rpc_timeout: float = DEFAULT_RPC_TIMEOUT,
        mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        trace_links_only: bool = False,
    ) -> None:
        super().__init__(
            rpc_timeout=rpc_timeout,
            mailbox_capacity=mailbox_capacity,
            backlog_limit=backlog_limit,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            trace_links_only=trace_links_only,
        )
        self.settings = NatsSettings.resolve(
            servers,
            tls=tls,
            user=user,
            password=password,
            token=token,
            nkeys_seed=nkeys_seed,
            user_credentials=user_credentials,
            connect_timeout=connect_timeout,
        )
        if lease < 3:
            raise ValueError(f"lease must be at least 3 seconds, got {lease:g}")
        if handoff_timeout <= 0 or kv_replicas < 1:
            raise ValueError("handoff_timeout and kv_replicas must be positive")
        self.subjects = Subjects(namespace)
        self.worker_id = os.urandom(6).hex()
        """This worker's id in the routing state (new on each start)."""
        self.counters = NatsCounters()
        """Traffic and fault counters."""
        self.view = RoutingView()
        """The routing state as this worker sees it."""
        self._lease = lease
        self._replicas = kv_replicas
        self._handoff_timeout = handoff_timeout
        self._max_message_size = max_message_size
        self._board = StateBoard()
        self._client: Client | None = None
        self._membership: Membership | None = None
        self._handoff: Handoff | None = None
        self._outbound: NatsOutbound | None = None
        self._inbound: NatsInbound | None = None
        self._subscriptions: list[NatsSubscription] = []
        self._rebalancing: asyncio.Task[None] | None = None
        self._leaving = False

    @property
    def connected_url(self) -> str | None:
        """The NATS server this worker is connected to now (``None``: none)."""
        client = self._client
        if client is None or not client.is_connected or client.connected_url is None:
            return None
        return client.connected_url.geturl()

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Connect, join the routing state with what is registered, and run.

        Raises :class:`ConnectionError` when no server answers within
        ``connect_timeout`` (or refuses the credentials).
        """
        self.worker_id = os.urandom(6).hex()
        self.view = RoutingView()
        self._leaving = False
        await super().start()
        try:
            await self._join()
        except BaseException:
            await self.stop()
            raise

    async def _join(self) -> None:
        client = self._client = await connect(
            self.settings,
            self.counters,
            self._reconnected,
            lambda: not self.is_running,
        )
        limit = min(self._max_message_size, client.max_payload)
        codec = PayloadCodec(self.serializers, limit)
        membership = self._membership = Membership(
            client,
            self.subjects,
            self.worker_id,
            self.view,
            self._board,
            self.counters,
            lease=self._lease,
            replicas=self._replicas,
            timeout=self.settings.connect_timeout,
            on_change=self._routing_changed,
        )
        kv = await membership.open()
        handoff = self._handoff = Handoff(
            kv,
            self._board,
            self.worker_id,
            self.counters,
            timeout=self._handoff_timeout,
        )
        self.local.instances.on_create = handoff.restore
        parts = (client, self.subjects, self.worker_id, self.view, self.local, codec)
        self._outbound = NatsOutbound(
            *parts, self.counters, self._deadlines, self.local.work
        )
        inbound = self._inbound = NatsInbound(*parts, self.counters)
        telemetry = self._telemetry
        inbound.tracing = telemetry is not None and telemetry.tracing is not None
        for subject, handler in (
            (self.subjects.events(self.worker_id), inbound.on_event),
            (self.subjects.requests(self.worker_id), inbound.on_request),
        ):
            self._subscriptions.append(
                await client.subscribe(
                    subject,
                    cb=handler,
                    pending_msgs_limit=_PENDING_MESSAGES,
                    pending_bytes_limit=_PENDING_BYTES,
                )
            )
        await client.flush(max(1, int(self.settings.connect_timeout)))
        await membership.publish(self.agent_types, self.subscription_table)
        logger.info(
            "worker %s joined NATS namespace %s at %s",
            self.worker_id,
            self.subjects.namespace,
            ", ".join(self.settings.servers),
        )

    async def _reconnected(self) -> None:
        membership = self._membership
        if membership is None or not self.is_running:
            return
        try:
            await membership.resync()
            await membership.publish(self.agent_types, self.subscription_table)
        except Exception as error:
            logger.warning(
                "routing state not resynchronised after reconnecting: %s", error
            )

    def _routing_changed(self) -> None:
        if self._leaving or self._handoff is None:
            return
        if self._rebalancing is None or self._rebalancing.done():
            self._rebalancing = asyncio.create_task(
                self._rebalance(), name="agentgen-nats-rebalance"
            )

    async def _rebalance(self) -> None:
        """Hand over the idle agents whose keys another worker owns now.

        Their state goes to the bucket, where the new owner loads it; an agent
        busy right now is handed over at a later change, or when it stops.
        """
        assert self._handoff is not None
        states: dict[AgentId, Mapping[str, Any]] = {}
        for agent_id in list(self.local.instances.agents):
            owner = self.view.owner(agent_id.type, agent_id.key)
            if owner in (None, self.worker_id):
                continue
            agent = await self.local.evict(agent_id)
            if agent is None:
                continue
            try:
                states[agent_id] = await agent.save_state()
                await agent.close()
            except Exception:
                logger.exception("agent %s failed to hand over its state", agent_id)
        if states:
            try:
                await self._handoff.write(states)
            except Exception as error:
                logger.warning("could not hand %d agents over: %s", len(states), error)
            logger.info(
                "handed %d agents over to the workers now owning their keys",
                len(states),
            )

    async def stop(self) -> None:
        """Hand the agents' state over, leave the routing state, disconnect."""
        if not self.is_running:
            return
        self._leaving = True
        if self._rebalancing is not None:
            await asyncio.gather(self._rebalancing, return_exceptions=True)
        if self._membership is not None and self._membership.kv is not None:
            await self._hand_over()
        await super().stop()

    async def _hand_over(self) -> None:
        """Leave the routing state, let accepted work finish, write the states."""
        assert self._membership is not None and self._handoff is not None
        agents = dict(self.local.instances.agents)
        try:
            await self._handoff.mark_pending(agents)
        except Exception as error:
            logger.warning("could not mark the states to hand over: %s", error)
        await self._membership.leave()
        try:
            await asyncio.wait_for(self.local.work.wait_idle(), self._handoff_timeout)
        except TimeoutError:
            logger.warning(
                "messages still being handled after %g s; handing over the agents' "
                "state as it is",
                self._handoff_timeout,
            )
        try:
            await self.checkpoint(agents)
        except Exception as error:  # the bucket is unreachable: nothing to do
            self.counters.states_lost += len(agents)
            logger.error(
                "the state of %d agents was not handed over: %s", len(agents), error
            )

    async def _on_stop(self) -> None:
        if self._outbound is not None:
            await self._outbound.batcher.flush()
        for subscription in self._subscriptions:
            try:
                await subscription.unsubscribe()
            except Exception as error:
                logger.debug("unsubscribe failed: %s", error)
        self._subscriptions.clear()
        if self._inbound is not None and self._inbound.responding:
            await asyncio.gather(*self._inbound.responding, return_exceptions=True)
        if self._membership is not None:
            await self._membership.close()
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.close()
            except Exception as error:
                logger.debug("closing the NATS client failed: %s", error)
        self.local.instances.on_create = None

    def _metric_set(self) -> MetricSet:
        from ..telemetry import catalog

        metric_set = super()._metric_set()
        catalog.add_counters(metric_set, "nats", catalog.NATS_COUNTERS, self.counters)
        return metric_set

    async def wait_for_agent_types(
        self, *agent_types: str, timeout: float = 10.0
    ) -> None:
        """Return once some worker serves each of ``agent_types`` (as seen here).

        For callers started before their callees: an RPC to a type nobody
        serves yet fails at once. ``TimeoutError`` naming the missing types.
        """
        self._require_running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while missing := [t for t in agent_types if t not in self.view.serving]:
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"no worker served {', '.join(map(repr, missing))} within "
                    f"{timeout:g} s (namespace {self.subjects.namespace!r})"
                )
            await self.view.wait_changed(deadline - loop.time())

    # -- state -----------------------------------------------------------------

    async def checkpoint(self, agent_ids: Iterable[AgentId] | None = None) -> int:
        """Save agents' state where their next owner finds it; how many.

        For the agents of ``agent_ids`` made here (default: all of them). A
        crashed worker's agents restart from their last checkpoint.
        """
        handoff = self._handoff
        if handoff is None:
            raise RuntimeError("NatsWorkerRuntime is not connected")
        agents = self.local.instances.agents
        chosen = (
            agents
            if agent_ids is None
            else {a: agents[a] for a in agent_ids if a in agents}
        )
        states: dict[AgentId, Mapping[str, Any]] = {}
        for agent_id, agent in list(chosen.items()):
            try:
                states[agent_id] = await agent.save_state()
            except Exception:
                logger.exception("agent %s failed to save its state", agent_id)
        await handoff.write(states)
        return len(states)

    # -- registrations in the routing state -------------------------------------

    async def _publish_entry(self, subscriptions: Iterable[Subscription]) -> None:
        if self._membership is not None and self._client is not None:
            await self._membership.publish(self.agent_types, subscriptions)

    async def _remote_register_type(self, agent_type: str) -> None:
        await self._publish_entry(self.subscription_table)

    async def _remote_add_subscription(self, subscription: Subscription) -> None:
        await self._publish_entry([*self.subscription_table, subscription])

    async def _remote_remove_subscription(self, subscription_id: str) -> None:
        await self._publish_entry(
            s for s in self.subscription_table if s.id != subscription_id
        )

    # -- messages --------------------------------------------------------------

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` (default: its type's topic).

        Each subscribed (agent type, key) gets it once, from the worker
        owning the key. Core NATS delivers at most once: see the README.
        """
        self._require_running()
        outbound = self._outbound
        assert outbound is not None
        topic = self.resolve_topic(message, topic_id)
        message_id = message_id or self._ids.next()
        telemetry = self._telemetry
        if telemetry is None:
            await outbound.publish(message, topic, sender, message_id)
            return
        with telemetry.publishing(topic, message, message_id, sender) as carrier:
            await outbound.publish(message, topic, sender, message_id, carrier)

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient``'s worker; return the reply.

        :class:`~agentgen.runtime.errors.UndeliverableError` at once when no
        worker serves the type, :class:`~agentgen.runtime.errors.RemoteError`
        when the handler raised, :class:`~agentgen.runtime.errors.RpcTimeoutError`
        after ``timeout`` (default ``rpc_timeout``); never a hang.
        """
        self._require_running()
        outbound = self._outbound
        assert outbound is not None
        request_id = message_id or self._ids.next()
        limit = self.rpc_timeout if timeout is None else timeout
        telemetry = self._telemetry
        if telemetry is None:
            return await outbound.call(message, recipient, sender, request_id, limit)
        with telemetry.sending(recipient, message, request_id, sender) as carrier:
            return await outbound.call(
                message, recipient, sender, request_id, limit, carrier
            )
