"""``mypy --strict`` accepts correct user code on generated agents and rejects
handlers and calls with the wrong types (negative type tests)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .golden import GOLDEN_DIR
from .typecheck import run_mypy

USER_MODULE = GOLDEN_DIR / "user" / "golden_impl.py"

PRELUDE = """\
from __future__ import annotations

from agentgen.runtime import InProcessRuntime, MessageContext
from chat.v1 import agents_agents, messages_pb2

"""

# Each module must fail with exactly the errors listed (line, code, text).
NEGATIVE_MODULES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "wrong_message_type.py": (
        """\
class Assistant(agents_agents.AssistantBase):
    async def respond(
        self, message: messages_pb2.Summary, ctx: MessageContext  # wrong
    ) -> messages_pb2.Reply:
        return messages_pb2.Reply()
""",
        [
            (
                "override",
                'Argument 1 of "respond" is incompatible with supertype '
                '"chat.v1.agents_agents.AssistantBase"; supertype defines the argument '
                'type as "ChatMessage"',
            )
        ],
    ),
    "wrong_return_type.py": (
        """\
class Assistant(agents_agents.AssistantBase):
    async def respond(  # wrong
        self, message: messages_pb2.ChatMessage, ctx: MessageContext
    ) -> messages_pb2.Summary:
        return messages_pb2.Summary()
""",
        [
            (
                "override",
                'Return type "Coroutine[Any, Any, Summary]" of "respond" incompatible '
                'with return type "Coroutine[Any, Any, Reply]" in supertype '
                '"chat.v1.agents_agents.AssistantBase"',
            )
        ],
    ),
    "handler_returns_for_empty.py": (
        """\
class Assistant(agents_agents.AssistantBase):
    async def import_(  # wrong
        self, message: messages_pb2.UserJoined, ctx: MessageContext
    ) -> messages_pb2.Reply:
        return messages_pb2.Reply()
""",
        [("override", 'Return type "Coroutine[Any, Any, Reply]" of "import_"')],
    ),
    "client_wrong_argument.py": (
        """\
async def call(runtime: InProcessRuntime) -> messages_pb2.Reply:
    client = agents_agents.AssistantClient(runtime)
    return await client.respond(messages_pb2.Summary())  # wrong
""",
        [
            (
                "arg-type",
                'Argument 1 to "respond" of "AssistantClient" has incompatible type '
                '"Summary"; expected "ChatMessage"',
            )
        ],
    ),
    "client_wrong_reply_type.py": (
        """\
async def call(runtime: InProcessRuntime) -> messages_pb2.Summary:
    client = agents_agents.AssistantClient(runtime)
    return await client.respond(messages_pb2.ChatMessage())  # wrong
""",
        [
            (
                "return-value",
                'Incompatible return value type (got "Reply", expected "Summary")',
            )
        ],
    ),
}


@pytest.fixture(scope="module")
def checked_tree(golden_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the compiled golden output, to add user modules to."""
    tree = tmp_path_factory.mktemp("typing") / "tree"
    shutil.copytree(golden_out, tree)
    return tree


def test_correct_user_code_passes_mypy_strict(checked_tree: Path) -> None:
    target = checked_tree / USER_MODULE.name
    shutil.copy(USER_MODULE, target)

    result = run_mypy(checked_tree, [target])

    assert result.returncode == 0, result.stdout + result.stderr


def _unqualified(text: str) -> str:
    """Class names without their module (mypy 1.10 leaves it out)."""
    return re.sub(r'"(?:\w+\.)+(\w+)"', r'"\1"', text)


def test_wrong_handler_signatures_and_calls_fail_mypy_strict(
    checked_tree: Path,
) -> None:
    negative = checked_tree / "negative"
    negative.mkdir()
    for name, (body, _) in NEGATIVE_MODULES.items():
        (negative / name).write_text(PRELUDE + body, encoding="utf-8")

    result = run_mypy(checked_tree, sorted(negative.iterdir()))

    assert result.returncode == 1, result.stdout + result.stderr
    errors = re.findall(
        r"^negative/(\w+\.py):(\d+): error: (.*)  \[([\w-]+)\]$",
        result.stdout,
        flags=re.MULTILINE,
    )
    for name, (body, expected) in NEGATIVE_MODULES.items():
        wrong_line = (PRELUDE + body).splitlines().index(
            next(line for line in body.splitlines() if "# wrong" in line)
        ) + 1
        found = [
            (int(line), code, text) for file, line, text, code in errors if file == name
        ]
        assert len(found) == len(expected), (name, result.stdout)
        for (line, code, text), (expected_code, expected_text) in zip(
            found, expected, strict=True
        ):
            assert line == wrong_line, (name, result.stdout)
            assert code == expected_code, (name, result.stdout)
            assert _unqualified(text).startswith(_unqualified(expected_text)), (
                name,
                result.stdout,
            )
