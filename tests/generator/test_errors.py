"""Bad contracts are refused by real protoc runs, with a message that says
which file, line and element is at fault and what to change."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.protoc import run_protoc

HEADER = """\
syntax = "proto3";

package shop;

import "agentgen/options.proto";

message Order { string id = 1; }
message Receipt { string id = 1; }
"""


@dataclass(frozen=True)
class Case:
    """A bad contract and what the error must say."""

    id: str
    body: str
    marker: str
    fragments: tuple[str, ...]
    file: str = "shop/orders.proto"
    extra_files: dict[str, str] = field(default_factory=dict)


def _service(rpcs: str, option: str = "{}") -> str:
    return f"service Shop {{\n  option (agentgen.agent) = {option};\n{rpcs}}}\n"


CASES = [
    Case(
        "client-streaming",
        _service("  rpc Upload(stream Order) returns (Receipt);\n"),
        "rpc Upload",
        ("service Shop, rpc Upload", "client streaming", "remove 'stream'"),
    ),
    Case(
        "server-streaming",
        _service("  rpc Watch(Order) returns (stream Receipt);\n"),
        "rpc Watch",
        ("service Shop, rpc Watch", "server streaming", "remove 'stream'"),
    ),
    Case(
        "bidi-streaming",
        _service("  rpc Chat(stream Order) returns (stream Receipt);\n"),
        "rpc Chat",
        ("service Shop, rpc Chat", "bidirectional streaming", "remove 'stream'"),
    ),
    Case(
        "two-handlers-one-request-type",
        _service(
            "  rpc Place(Order) returns (Receipt);\n"
            "  rpc Replace(Order) returns (Receipt);\n"
        ),
        "rpc Replace",
        (
            "service Shop, rpc Replace",
            "shop.Order is already handled by rpc Place",
            "give each rpc of the service its own request message type",
        ),
    ),
    Case(
        "python-names-collide",
        _service(
            "  rpc Close(Order) returns (Receipt);\n"
            "  rpc Close_(Receipt) returns (Order);\n"
        ),
        "rpc Close_",
        (
            "service Shop, rpc Close_",
            "'close_' is already taken by rpc Close",
            "rename one of the two rpcs",
        ),
    ),
    Case(
        "agent-type-rejected-by-autogen",
        _service("  rpc Place(Order) returns (Receipt);\n", '{ type: "shop agent" }'),
        "option (agentgen.agent)",
        (
            "service Shop",
            "agent type 'shop agent' would be rejected by AutoGen",
            "(agentgen.agent).type",
        ),
    ),
    Case(
        "message-topic-rejected-by-autogen",
        'message Event {\n  option (agentgen.topic) = "orders placed";\n}\n',
        "option (agentgen.topic)",
        (
            "message shop.Event",
            "topic type 'orders placed' would be rejected by AutoGen",
            "in (agentgen.topic)",
        ),
    ),
    Case(
        "message-topic-empty",
        'message Event {\n  option (agentgen.topic) = "";\n}\n',
        "option (agentgen.topic)",
        ("message shop.Event", "the topic type is empty", "set (agentgen.topic)"),
    ),
    Case(
        "subscribed-topic-rejected-by-autogen",
        _service("", '{ subscribe: "orders/new" }'),
        "option (agentgen.agent)",
        (
            "service Shop",
            "topic type 'orders/new' would be rejected by AutoGen",
            "(agentgen.agent).subscribe",
        ),
    ),
    Case(
        "topic-subscribed-twice",
        _service("", '{ subscribe: "default" default_subscription: true }'),
        "option (agentgen.agent)",
        ("service Shop", "'default' is subscribed to twice", "list each topic"),
    ),
    Case(
        "empty-prefix",
        _service("", '{ subscribe_prefix: "" }'),
        "option (agentgen.agent)",
        (
            "service Shop",
            "subscribe_prefix is empty",
            "give a non-empty prefix in (agentgen.agent).subscribe_prefix",
        ),
    ),
    Case(
        "prefix-never-matches",
        _service("", '{ subscribe_prefix: "orders " }'),
        "option (agentgen.agent)",
        ("service Shop", "can never match", "subscribe_prefix"),
    ),
    Case(
        "same-agent-type-twice-in-a-file",
        _service("  rpc Place(Order) returns (Receipt);\n")
        + 'service Store {\n  option (agentgen.agent) = { type: "Shop" };\n}\n',
        "service Store",
        (
            "service Store",
            "agent type 'Shop' is already the type of service Shop "
            "(shop/orders.proto:9:1)",
            "(agentgen.agent).type",
        ),
    ),
    Case(
        "same-agent-type-in-an-imported-file",
        'service Shop {\n  option (agentgen.agent) = { type: "Billing" };\n}\n',
        "service Shop",
        (
            "service Shop",
            "agent type 'Billing' is already the type of service Billing "
            "(shop/billing.proto:5:1)",
        ),
        extra_files={
            "shop/billing.proto": 'syntax = "proto3";\npackage shop.billing;\n'
            'import "agentgen/options.proto";\n\n'
            "service Billing {\n  option (agentgen.agent) = {};\n}\n",
        },
    ),
    Case(
        "class-name-clashes-with-an-import",
        "service Agent {\n  option (agentgen.agent) = {};\n}\n",
        "service Agent",
        (
            "service Agent",
            "the generated class AgentClient would clash",
            "rename the service (for example to AgentService)",
        ),
    ),
    Case(
        "message-named-like-a-python-keyword",
        "message pass { string id = 1; }\n",
        "message pass",
        ("message shop.pass", "Python keyword", "rename the message"),
    ),
]


def _line_of(text: str, marker: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in the contract")


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_contract_is_refused_with_a_located_message(
    case: Case, tmp_path: Path
) -> None:
    contract = HEADER + case.body
    if case.extra_files:
        options_import = 'import "agentgen/options.proto";'
        contract = contract.replace(
            options_import,
            "\n".join([options_import, *(f'import "{n}";' for n in case.extra_files)]),
        )
    protos, out = tmp_path / "protos", tmp_path / "out"
    _write(protos, {case.file: contract, **case.extra_files})

    completed = run_protoc(protos, [case.file, *case.extra_files], out)

    assert completed.returncode != 0
    stderr = completed.stderr
    assert f"{case.file}:{_line_of(contract, case.marker)}:" in stderr, stderr
    for fragment in case.fragments:
        assert fragment in stderr, stderr
    assert "Traceback" not in stderr
    assert not list(out.rglob("*.py")), "protoc wrote output despite the error"


def test_every_error_of_a_run_is_reported_at_once(tmp_path: Path) -> None:
    files = {
        "a.proto": HEADER.replace("package shop;", "package a;")
        + _service("  rpc Watch(Order) returns (stream Receipt);\n"),
        "b.proto": 'syntax = "proto3";\npackage b;\nimport "agentgen/options.proto";\n'
        'message Event {\n  option (agentgen.topic) = "bad topic";\n}\n',
    }
    _write(tmp_path / "protos", files)

    completed = run_protoc(tmp_path / "protos", sorted(files), tmp_path / "out")

    assert completed.returncode != 0
    rpc_line = _line_of(files["a.proto"], "rpc Watch")
    assert f"a.proto:{rpc_line}:3: service Shop, rpc Watch: " in completed.stderr
    assert "b.proto:5:3: message b.Event: " in completed.stderr


def test_agent_type_unusable_from_dotnet_is_a_warning(tmp_path: Path) -> None:
    contract = HEADER + _service(
        "  rpc Place(Order) returns (Receipt);\n", '{ type: "shop.orders" }'
    )
    _write(tmp_path / "protos", {"shop/orders.proto": contract})

    completed = run_protoc(tmp_path / "protos", ["shop/orders.proto"], tmp_path / "out")

    assert completed.returncode == 0, completed.stderr
    line = _line_of(contract, "option (agentgen.agent)")
    assert f"shop/orders.proto:{line}:3: warning: service Shop: " in completed.stderr
    assert ".NET" in completed.stderr
    assert (tmp_path / "out/shop/orders_agents.py").is_file()


@pytest.mark.parametrize(
    ("option", "refused"),
    [("dotnet_names=error", True), ("dotnet_names=ignore", False)],
)
def test_dotnet_names_option_turns_the_warning_into_an_error_or_silence(
    option: str, refused: bool, tmp_path: Path
) -> None:
    contract = HEADER + _service("", '{ type: "shop.orders" }')
    _write(tmp_path / "protos", {"shop/orders.proto": contract})

    completed = run_protoc(
        tmp_path / "protos",
        ["shop/orders.proto"],
        tmp_path / "out",
        extra_args=[f"--agentgen_opt={option}"],
    )

    assert (completed.returncode != 0) == refused
    assert (".NET" in completed.stderr) == refused


def test_unknown_plugin_option_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "protos", {"shop/orders.proto": HEADER})

    completed = run_protoc(
        tmp_path / "protos",
        ["shop/orders.proto"],
        tmp_path / "out",
        extra_args=["--agentgen_opt=colour=blue"],
    )

    assert completed.returncode != 0
    assert "unknown option 'colour'" in completed.stderr
    assert "dotnet_names" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_annotations_of_a_foreign_options_proto_are_refused(tmp_path: Path) -> None:
    # A vendored agentgen/options.proto with other field numbers, found first on
    # the include path: its annotations cannot be decoded by the plugin.
    foreign = (
        'syntax = "proto3";\npackage agentgen;\n'
        'import "google/protobuf/descriptor.proto";\n'
        "extend google.protobuf.MessageOptions { string topic = 61001; }\n"
    )
    contract = (
        'syntax = "proto3";\npackage shop;\nimport "agentgen/options.proto";\n'
        'message Event {\n  option (agentgen.topic) = "events";\n}\n'
    )
    _write(
        tmp_path / "protos",
        {"agentgen/options.proto": foreign, "shop/events.proto": contract},
    )

    completed = run_protoc(tmp_path / "protos", ["shop/events.proto"], tmp_path / "out")

    assert completed.returncode != 0
    assert "shop/events.proto:4:1: message shop.Event: " in completed.stderr
    assert "could not be decoded" in completed.stderr
    assert "agentgen protos-path" in completed.stderr
