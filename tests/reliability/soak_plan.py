"""What each soak worker publishes and subscribes, and so what each must receive.

Worker ``w`` of ``W`` owns agent type ``soak-w`` and subscribes it with every
kind of subscription: a type subscription to ``ring-w``, the prefix ``fan.``,
the default topic (even workers only) and the direct-message prefix
``soak-w:``. Message ``seq`` of publisher ``p`` goes, by ``seq % 4``:

0. to ``ring-(p+1)``: one agent of the next worker;
1. to ``fan.all``: one agent of every worker;
2. to ``default``: one agent of every even worker;
3. to ``soak-(p+3):direct``: one agent of the worker three further on.

The topic source (so the agent key) alternates between ``a`` and ``b`` every
four messages. A message's value is ``p * SEQ_SPAN + seq``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

SOAK_SIZES = {"ci": 1_000, "full": 10_000}
"""Messages each worker publishes, by soak size."""
SOAK_WORKERS = 8
SEQ_SPAN = 1_000_000_000
KEYS = ("a", "b")
FAN_TOPIC = "fan.all"
FAN_PREFIX = "fan."


def agent_type(worker: int) -> str:
    return f"soak-{worker}"


def ring_topic(worker: int) -> str:
    return f"ring-{worker}"


def has_default_subscription(worker: int) -> bool:
    return worker % 2 == 0


@dataclass(frozen=True)
class Publish:
    """One message of the plan: its value, topic and receiving workers."""

    value: int
    topic_type: str
    key: str
    receivers: tuple[int, ...]


@dataclass(frozen=True)
class SoakPlan:
    """``workers`` workers publishing ``messages`` messages each."""

    workers: int
    messages: int

    def publishes(self, publisher: int) -> Iterator[Publish]:
        """What ``publisher`` publishes, in order."""
        everyone = tuple(range(self.workers))
        evens = tuple(w for w in everyone if has_default_subscription(w))
        for seq in range(self.messages):
            key = KEYS[(seq // 4) % 2]
            value = publisher * SEQ_SPAN + seq
            kind = seq % 4
            if kind == 0:
                target = (publisher + 1) % self.workers
                yield Publish(value, ring_topic(target), key, (target,))
            elif kind == 1:
                yield Publish(value, FAN_TOPIC, key, everyone)
            elif kind == 2:
                yield Publish(value, "default", key, evens)
            else:
                target = (publisher + 3) % self.workers
                yield Publish(value, f"{agent_type(target)}:direct", key, (target,))

    def expected(self, worker: int) -> dict[str, dict[str, list[int]]]:
        """``{agent key: {publisher: [seq, ...]}}`` that ``worker`` must receive."""
        received: dict[str, dict[str, list[int]]] = {key: {} for key in KEYS}
        for publisher in range(self.workers):
            for publish in self.publishes(publisher):
                if worker in publish.receivers:
                    received[publish.key].setdefault(str(publisher), []).append(
                        publish.value % SEQ_SPAN
                    )
        return received

    def deliveries(self) -> int:
        """Messages delivered to agents, over all workers."""
        return sum(
            len(publish.receivers)
            for publisher in range(self.workers)
            for publish in self.publishes(publisher)
        )


@dataclass(frozen=True)
class SoakSize:
    """The soak to run: ``ci`` or ``full``, and its plan."""

    name: str
    plan: SoakPlan
