"""Hypothesis strategies for agentgen contracts (.proto text), valid or broken.

:func:`valid_contracts` draws contracts that follow every documented rule of
``agentgen/options.proto`` and the generator: names AutoGen accepts, each
request type handled once per agent, distinct Python method names, topics
subscribed once. :func:`broken_contracts` takes a valid one and breaks exactly
one rule (or the .proto syntax), naming which.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st

from agentgen.generator.naming import snake_case
from agentgen.generator.runtime_names import agent_class_names, fixed_names

__all__ = [
    "BROKEN_RULES",
    "EMPTY",
    "Broken",
    "Contract",
    "Message",
    "Rpc",
    "Service",
    "broken_contracts",
    "valid_contracts",
]

SCALARS = ("string", "int32", "int64", "uint64", "bool", "double", "bytes")
WELL_KNOWN = {
    "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
    "google.protobuf.Empty": "google/protobuf/empty.proto",
}
EMPTY = "google.protobuf.Empty"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str = ""  # "", "repeated " or "map"


@dataclass(frozen=True)
class Message:
    name: str
    fields: tuple[Field, ...] = ()
    topic: str | None = None


@dataclass(frozen=True)
class Rpc:
    name: str
    request: str
    response: str
    streaming: str = ""  # "", "client", "server", "bidi"


@dataclass(frozen=True)
class Service:
    name: str
    rpcs: tuple[Rpc, ...]
    agent_type: str | None = None
    subscribe: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    default_subscription: bool = False


@dataclass(frozen=True)
class Contract:
    """One .proto file: ``package`` is also its folder, so modules never clash."""

    package: str
    messages: tuple[Message, ...]
    services: tuple[Service, ...]
    extra: tuple[str, ...] = field(default=())
    """Raw lines appended to the file (used to break it)."""

    @property
    def path(self) -> str:
        return f"{self.package}/contract.proto"

    @property
    def module(self) -> str:
        return f"{self.package}.contract_agents"

    def render(self) -> str:
        lines = [
            'syntax = "proto3";',
            "",
            f"package {self.package};",
            "",
            'import "agentgen/options.proto";',
            *(f'import "{path}";' for path in sorted(set(WELL_KNOWN.values()))),
            "",
        ]
        for message in self.messages:
            lines.append(f"message {message.name} {{")
            if message.topic is not None:
                lines.append(f'  option (agentgen.topic) = "{message.topic}";')
            for number, item in enumerate(message.fields, start=1):
                if item.label == "map":
                    lines.append(f"  map<string, {item.type}> {item.name} = {number};")
                else:
                    lines.append(f"  {item.label}{item.type} {item.name} = {number};")
            lines.append("}")
        for service in self.services:
            lines.append(f"service {service.name} {{")
            lines.append(f"  option (agentgen.agent) = {{{_agent_options(service)}}};")
            for rpc in service.rpcs:
                request = (
                    f"stream {rpc.request}"
                    if rpc.streaming in ("client", "bidi")
                    else rpc.request
                )
                response = (
                    f"stream {rpc.response}"
                    if rpc.streaming in ("server", "bidi")
                    else rpc.response
                )
                lines.append(f"  rpc {rpc.name}({request}) returns ({response});")
            lines.append("}")
        lines.extend(self.extra)
        return "\n".join(lines) + "\n"


def _agent_options(service: Service) -> str:
    parts = []
    if service.agent_type is not None:
        parts.append(f'type: "{service.agent_type}"')
    parts += [f'subscribe: "{topic}"' for topic in service.subscribe]
    parts += [f'subscribe_prefix: "{prefix}"' for prefix in service.prefixes]
    if service.default_subscription:
        parts.append("default_subscription: true")
    return " ".join(parts)


_RESERVED_WORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
TYPE_NAMES = st.from_regex(r"[A-Z][A-Za-z0-9]{0,9}", fullmatch=True).filter(
    lambda name: name not in _RESERVED_WORDS
)
FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(
    lambda name: name not in _RESERVED_WORDS
)
TOPICS = st.from_regex(r"[A-Za-z0-9_\-.:=]{1,12}", fullmatch=True)
AGENT_TYPES = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_\-.]{1,12}", fullmatch=True),
)


def _service_name_ok(name: str) -> bool:
    return not set(agent_class_names(name)) & fixed_names()


@st.composite
def _messages(draw: st.DrawFn, names: list[str]) -> tuple[Message, ...]:
    types = [*SCALARS, *names, *WELL_KNOWN]
    messages = []
    for name in names:
        field_names = draw(st.lists(FIELD_NAMES, max_size=4, unique=True))
        fields = tuple(
            Field(
                field_name,
                draw(st.sampled_from(types)),
                draw(st.sampled_from(["", "", "repeated ", "map"])),
            )
            for field_name in field_names
        )
        topic = draw(st.one_of(st.none(), TOPICS))
        messages.append(Message(name, fields, topic))
    return tuple(messages)


@st.composite
def _services(
    draw: st.DrawFn, names: list[str], message_names: list[str]
) -> tuple[Service, ...]:
    requests = [*message_names, *WELL_KNOWN]
    services: list[Service] = []
    agent_types: set[str] = set()
    # protoc resolves a type name in the service's scope first: an rpc named
    # like a message would hide it.
    taken = {*message_names, *names}
    for name in names:
        rpc_names = draw(
            st.lists(
                TYPE_NAMES.filter(lambda rpc: rpc not in taken),
                min_size=1,
                max_size=min(4, len(requests)),
                unique_by=snake_case,
            )
        )
        handled = draw(
            st.lists(
                st.sampled_from(requests),
                min_size=len(rpc_names),
                max_size=len(rpc_names),
                unique=True,
            )
        )
        rpcs = tuple(
            Rpc(rpc_name, request, draw(st.sampled_from([*message_names, EMPTY])))
            for rpc_name, request in zip(rpc_names, handled, strict=True)
        )
        agent_type = draw(st.one_of(st.none(), AGENT_TYPES))
        while (agent_type or name) in agent_types:  # each agent type once per file
            agent_type = f"{agent_type or name}_"
        agent_types.add(agent_type or name)
        default = draw(st.booleans())
        subscribe = draw(st.lists(TOPICS, max_size=3, unique=True))
        if default:  # default_subscription already subscribes "default"
            subscribe = [topic for topic in subscribe if topic != "default"]
        prefixes = draw(st.lists(TOPICS, max_size=2, unique=True))
        services.append(
            Service(name, rpcs, agent_type, tuple(subscribe), tuple(prefixes), default)
        )
    return tuple(services)


@st.composite
def valid_contracts(draw: st.DrawFn, package: str) -> Contract:
    """A contract in ``package`` that the plugin must turn into working code."""
    names = draw(st.lists(TYPE_NAMES, min_size=1, max_size=5, unique=True))
    message_names = names[: draw(st.integers(1, len(names)))]
    service_names = [
        name for name in names[len(message_names) :] if _service_name_ok(name)
    ]
    messages = draw(_messages(message_names))
    services = draw(_services(service_names, message_names))
    return Contract(package, messages, services)


@dataclass(frozen=True)
class Broken:
    """A contract with one rule broken, and the rule."""

    contract: Contract
    rule: str


def _with_service(contract: Contract, service: Service) -> Contract:
    return replace(contract, services=(*contract.services, service))


BROKEN_RULES = (
    "streaming",
    "request-twice",
    "method-names-collide",
    "agent-type",
    "agent-type-twice",
    "message-topic",
    "subscribe-twice",
    "empty-prefix",
    "class-name-clash",
    "keyword-message",
    "unknown-type",
    "syntax",
    "duplicate-field-number",
)
"""Each rule :func:`broken_contracts` can break."""


@st.composite
def broken_contracts(
    draw: st.DrawFn, package: str, rules: tuple[str, ...] = BROKEN_RULES
) -> Broken:
    """A valid contract with exactly one of ``rules`` broken."""
    contract = draw(valid_contracts(package))
    first = contract.messages[0].name
    rule = draw(st.sampled_from(rules))
    service = Service("Broken", (Rpc("Handle", first, first),), agent_type="broken")
    rpc = service.rpcs[0]
    if rule == "streaming":
        kind = draw(st.sampled_from(["client", "server", "bidi"]))
        broken = _with_service(
            contract, replace(service, rpcs=(replace(rpc, streaming=kind),))
        )
    elif rule == "request-twice":
        broken = _with_service(
            contract, replace(service, rpcs=(rpc, Rpc("Again", first, EMPTY)))
        )
    elif rule == "method-names-collide":
        broken = _with_service(
            contract,
            replace(
                service, rpcs=(Rpc("DoIt", first, first), Rpc("Do_It", EMPTY, first))
            ),
        )
    elif rule == "agent-type":
        bad = draw(st.sampled_from(["a b", "a/b", "a:b", "", "x!"]))
        broken = _with_service(contract, replace(service, agent_type=bad or " "))
    elif rule == "agent-type-twice":
        broken = _with_service(
            _with_service(contract, service),
            replace(service, name="BrokenToo", rpcs=(replace(rpc, name="Other"),)),
        )
    elif rule == "message-topic":
        bad = draw(st.sampled_from(["", "a b", "a/b", "x!"]))
        messages = (replace(contract.messages[0], topic=bad), *contract.messages[1:])
        broken = replace(contract, messages=messages)
    elif rule == "subscribe-twice":
        broken = _with_service(contract, replace(service, subscribe=("t", "t")))
    elif rule == "empty-prefix":
        broken = _with_service(contract, replace(service, prefixes=("",)))
    elif rule == "class-name-clash":
        broken = _with_service(contract, replace(service, name="Agent"))
    elif rule == "keyword-message":
        broken = replace(contract, messages=(*contract.messages, Message("None")))
    elif rule == "unknown-type":
        broken = _with_service(
            contract, replace(service, rpcs=(replace(rpc, request="NoSuchMessage"),))
        )
    elif rule == "syntax":
        broken = replace(contract, extra=("message Unclosed {",))
    else:
        broken = replace(
            contract,
            extra=("message Twice { string a = 1; string b = 1; }",),
        )
    return Broken(broken, rule)
