"""Recording what agents handle, and waiting until they have handled enough.

:class:`Deliveries` observes runtimes through ``runtime.local.add_observer``
and keeps a :class:`Delivery` for each message a local agent finished
handling. :meth:`Deliveries.wait_for` waits, with a timeout, until enough of
them match; when the time is up it fails with a list of what was handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

from agentgen.runtime import AgentId, BaseRuntime, MessageContext

from .deadlines import DEFAULT_TIMEOUT, deadline

__all__ = ["Deliveries", "Delivery", "message_type_name"]


def message_type_name(message: object) -> str:
    """A message's (or message class's) protobuf full name, else its class name."""
    descriptor = getattr(message, "DESCRIPTOR", None)
    full_name = getattr(descriptor, "full_name", None)
    if isinstance(full_name, str):
        return full_name
    cls = message if isinstance(message, type) else type(message)
    return cls.__qualname__


@dataclass(frozen=True, eq=False)
class Delivery:
    """One message an agent handled: where, what, its context and how it ended.

    ``failure`` is the exception the handler raised (or the cancellation
    that stopped it), ``None`` when it returned.
    """

    agent_id: AgentId
    message: Any
    ctx: MessageContext
    failure: BaseException | None = None


@dataclass(frozen=True)
class _Wanted:
    """The filters of one wait: each given one must hold."""

    message_type: type[Any] | None
    agent: AgentId | None
    agent_type: str | None
    where: Callable[[Any], bool] | None

    def matches(self, delivery: Delivery) -> bool:
        return (
            (self.agent is None or delivery.agent_id == self.agent)
            and (self.agent_type is None or delivery.agent_id.type == self.agent_type)
            and (
                self.message_type is None
                or isinstance(delivery.message, self.message_type)
            )
            and (self.where is None or self.where(delivery.message))
        )

    def describe(self, count: int) -> str:
        parts = [f"{count} deliver{'y' if count == 1 else 'ies'}"]
        if self.message_type is not None:
            parts.append(f"of {message_type_name(self.message_type)}")
        if self.agent is not None:
            parts.append(f"to {self.agent}")
        if self.agent_type is not None:
            parts.append(f"to agent type {self.agent_type!r}")
        if self.where is not None:
            parts.append(f"where {getattr(self.where, '__qualname__', self.where)}")
        return " ".join(parts)


def _tally(deliveries: list[Delivery]) -> list[str]:
    """One line per (agent, message type): how many, and how many failed."""
    counts: dict[tuple[str, str], list[int]] = {}
    failures: dict[tuple[str, str], set[str]] = {}
    for delivery in deliveries:
        key = (str(delivery.agent_id), message_type_name(delivery.message))
        counts.setdefault(key, [0, 0])[0] += 1
        if delivery.failure is not None:
            counts[key][1] += 1
            failures.setdefault(key, set()).add(type(delivery.failure).__name__)
    lines = []
    for (agent, name), (total, failed) in counts.items():
        line = f"  {agent}: {name} x{total}"
        if failed:
            line += f" ({failed} failed: {', '.join(sorted(failures[(agent, name)]))})"
        lines.append(line)
    return lines or ["  nothing"]


class Deliveries:
    """Records every message the agents of the watched runtimes handle.

    Watch before messages flow: ``deliveries = Deliveries(runtime)`` (or
    :meth:`watch`, or the ``agentgen_deliveries`` fixture). ``handled`` lists
    finished deliveries in the order they finished; :meth:`wait_for` waits
    for some. Use it in the event loop of the runtimes it watches.
    """

    def __init__(self, *runtimes: BaseRuntime) -> None:
        self._handled: list[Delivery] = []
        self._handling: dict[int, Delivery] = {}
        self._listeners: set[asyncio.Event] = set()
        self._removers: list[Callable[[], None]] = []
        for runtime in runtimes:
            self.watch(runtime)

    def watch(self, runtime: BaseRuntime) -> Self:
        """Record the deliveries of ``runtime`` too, from now on."""
        self._removers.append(runtime.local.add_observer(self))
        return self

    def close(self) -> None:
        """Stop watching every runtime (what was recorded stays)."""
        removers, self._removers = self._removers, []
        for remove in removers:
            remove()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def handled(self) -> list[Delivery]:
        """Every finished delivery, in the order they finished (a copy)."""
        return list(self._handled)

    @property
    def being_handled(self) -> list[Delivery]:
        """Deliveries whose handler is running now."""
        return list(self._handling.values())

    def clear(self) -> None:
        """Forget the finished deliveries recorded so far."""
        self._handled.clear()

    def matching(
        self,
        *,
        message_type: type[Any] | None = None,
        agent: AgentId | None = None,
        agent_type: str | None = None,
        where: Callable[[Any], bool] | None = None,
    ) -> list[Delivery]:
        """The finished deliveries passing every filter given (see :meth:`wait_for`)."""
        wanted = _Wanted(message_type, agent, agent_type, where)
        return [delivery for delivery in self._handled if wanted.matches(delivery)]

    async def wait_for(
        self,
        count: int = 1,
        *,
        message_type: type[Any] | None = None,
        agent: AgentId | None = None,
        agent_type: str | None = None,
        where: Callable[[Any], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        allow_failures: bool = False,
    ) -> list[Delivery]:
        """Wait until ``count`` finished deliveries match; return the first ``count``.

        Filters: ``message_type`` (an instance of it), ``agent`` (that id),
        ``agent_type``, ``where`` (a predicate on the message). Deliveries
        recorded before the call count. A matching delivery whose handler
        failed raises ``AssertionError`` at once, unless ``allow_failures``
        (then it counts; see :attr:`Delivery.failure`). After ``timeout``
        seconds, raises ``AssertionError`` listing what was handled.
        """
        wanted = _Wanted(message_type, agent, agent_type, where)
        changed = asyncio.Event()
        self._listeners.add(changed)
        try:
            async with deadline(timeout, lambda: self._report(wanted, count, timeout)):
                while True:
                    found = [d for d in self._handled if wanted.matches(d)]
                    if not allow_failures:
                        _fail_on_failures(found)
                    if len(found) >= count:
                        return found[:count]
                    if not self._removers:
                        raise RuntimeError(
                            f"waiting for {wanted.describe(count)}, but this "
                            "recorder watches no runtime: Deliveries(runtime) "
                            "or deliveries.watch(runtime) first"
                        )
                    await changed.wait()
                    changed.clear()
        finally:
            self._listeners.discard(changed)

    def _report(self, wanted: _Wanted, count: int, timeout: float) -> str:
        """What a timed-out wait says: what it wanted, what was handled."""
        matched = sum(1 for delivery in self._handled if wanted.matches(delivery))
        return "\n".join(
            [
                f"timed out after {timeout:g} s waiting for "
                f"{wanted.describe(count)}; {matched} matched",
                f"handled ({len(self._handled)}):",
                *_tally(self._handled),
                f"being handled ({len(self._handling)}):",
                *_tally(list(self._handling.values())),
            ]
        )

    # -- DeliveryObserver: called by the runtimes, in the agents' tasks --------

    def before(self, agent_id: AgentId, message: Any, ctx: MessageContext) -> object:
        """A handler starts: remember the delivery as being handled."""
        started = Delivery(agent_id, message, ctx)
        self._handling[id(started)] = started
        return started

    def after(self, token: object, failure: BaseException | None) -> None:
        """It finished: record it and wake the waits."""
        started = self._handling.pop(id(token), None)
        if started is None:
            return
        self._handled.append(
            started if failure is None else replace(started, failure=failure)
        )
        for listener in self._listeners:
            listener.set()


def _fail_on_failures(found: list[Delivery]) -> None:
    for delivery in found:
        if delivery.failure is not None:
            failure = delivery.failure
            raise AssertionError(
                f"{delivery.agent_id} failed to handle "
                f"{message_type_name(delivery.message)}: "
                f"{type(failure).__name__}: {failure} (pass allow_failures=True "
                "to count failed deliveries)"
            ) from failure
