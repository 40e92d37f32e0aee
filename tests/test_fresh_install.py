"""A newcomer's first minutes, in a fresh virtual environment.

``pip install <repo>`` (not editable, so the templates and protos must ship as
package data; and without black or pytest), then ``agentgen init demo``, a
contract with fields of every kind, ``pip install -e '.[dev]'``, ``agentgen
generate``, the scaffold's own ``mypy``, ``ruff check``, ``black --check``
and tests, and the hello example end to end, all with the fresh venv's
programs and from folders outside the source tree (so nothing is imported
from it). pip's cache is reused between runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

from tests.support.source_tree import copy_source

INSTALL_TIMEOUT = 900
STEP_TIMEOUT = 300
# Run outside the project: the editable install finds the package and the
# modules `agentgen generate` wrote after it.
PROBE_INSTALLED = (
    "import demo.cli, demo_pb2; "
    "print(demo.cli.__name__, demo_pb2.__name__, demo_pb2.Visit.DESCRIPTOR.name)"
)


class FreshVenv:
    """A virtual environment with nothing but what the test installs."""

    def __init__(self, folder: Path) -> None:
        venv.create(folder, with_pip=True, clear=True)
        self.bin = folder / "bin"
        self.python = self.bin / "python"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        }
        self.env["PATH"] = os.pathsep.join([str(self.bin), os.environ["PATH"]])
        self.env["VIRTUAL_ENV"] = str(folder)

    def run(
        self, *command: str | Path, cwd: Path, timeout: float = STEP_TIMEOUT
    ) -> str:
        """Run a command of this venv; fail the test with its output if it fails."""
        completed = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = completed.stdout + completed.stderr
        if completed.returncode != 0:
            shown = " ".join(map(str, command))
            pytest.fail(f"{shown} exited {completed.returncode}:\n{output}")
        return completed.stdout

    def pip_install(self, *requirements: str | Path, cwd: Path) -> None:
        """``pip install`` with the user's pip configuration and cache."""
        self.run(
            self.python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
            cwd=cwd,
            timeout=INSTALL_TIMEOUT,
        )


# Fields of every kind, added to the scaffolded contract: a message, an enum, a
# oneof, repeated fields, map<string, Message> and a well-known type.
EXTRA_IMPORT = 'import "google/protobuf/timestamp.proto";\n'
EXTRA_CONTRACT = """
// How a visitor felt.
enum Mood {
  MOOD_UNSPECIFIED = 0;
  MOOD_HAPPY = 1;
}

// A visit, with a field of every kind.
message Visit {
  option (agentgen.topic) = "visits";
  Greet greet = 1;
  Mood mood = 2;
  oneof via {
    string door = 3;
    int32 window = 4;
  }
  repeated Greeting greetings = 5;
  repeated string tags = 6;
  map<string, Greet> by_name = 7;
  google.protobuf.Timestamp at = 8;
}

// Keeps every visit.
service Visitors {
  option (agentgen.agent) = { subscribe: "visits" };
  rpc Record(Visit) returns (google.protobuf.Empty);
}
"""
# Uses every field through the generated stubs and agents, so mypy --strict
# checks them, and pytest runs it.
VISIT_TEST = """\
\"\"\"Every kind of field, through the generated stubs and an agent.\"\"\"

from __future__ import annotations

from agentgen.runtime import InProcessRuntime, MessageContext
from google.protobuf.timestamp_pb2 import Timestamp

import demo_pb2 as pb
from demo_agents import VisitorsBase, VisitorsClient


class Visitors(VisitorsBase):
    def __init__(self) -> None:
        super().__init__()
        self.visits: list[pb.Visit] = []

    async def record(self, message: pb.Visit, ctx: MessageContext) -> None:
        self.visits.append(message)


def make_visit() -> pb.Visit:
    visit = pb.Visit(
        greet=pb.Greet(name="Ada"),
        mood=pb.MOOD_HAPPY,
        window=2,
        greetings=[pb.Greeting(text="Hello, Ada!")],
        tags=["first"],
        by_name={"ada": pb.Greet(name="Ada")},
        at=Timestamp(seconds=1_700_000_000),
    )
    visit.door = "front"
    return visit


def test_fields_round_trip() -> None:
    visit = make_visit()
    copy = pb.Visit.FromString(visit.SerializeToString())
    assert copy == visit
    assert copy.WhichOneof("via") == "door"
    assert not copy.HasField("window")
    mood: pb.Mood.ValueType = copy.mood
    assert pb.Mood.Name(mood) == "MOOD_HAPPY"
    assert copy.by_name["ada"].name == copy.greet.name == "Ada"
    assert [greeting.text for greeting in copy.greetings] == ["Hello, Ada!"]
    assert copy.at.ToSeconds() == 1_700_000_000


async def test_an_agent_receives_the_visit() -> None:
    visitors = Visitors()
    async with InProcessRuntime() as runtime:
        await Visitors.register(runtime, lambda: visitors)
        await VisitorsClient(runtime).record(make_visit())
        await runtime.publish_message(make_visit())
        await runtime.stop_when_idle()
    assert visitors.visits == [make_visit(), make_visit()]
"""
# What `pip install agentgen` must not bring: test and formatting tools.
NOT_RUNTIME = {"black", "pytest", "pytest-asyncio", "mypy", "ruff"}


def extend_contract(project: Path) -> None:
    """Add fields of every kind (and an agent using them) to the contract."""
    contract = project / "protos" / "demo.proto"
    text = contract.read_text(encoding="utf-8")
    anchor = 'import "google/protobuf/empty.proto";\n'
    assert anchor in text, text
    text = text.replace(anchor, anchor + EXTRA_IMPORT)
    contract.write_text(text + EXTRA_CONTRACT, encoding="utf-8")
    (project / "tests" / "test_visit.py").write_text(VISIT_TEST, encoding="utf-8")


def installed_names(fresh: FreshVenv, cwd: Path) -> set[str]:
    """The distributions installed in ``fresh``, normalized names."""
    listed = fresh.run(
        fresh.python, "-m", "pip", "list", "--format=freeze", cwd=cwd
    ).splitlines()
    return {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        for line in listed
        if "==" in line
    }


def test_fresh_install_init_generate_check_test_and_hello(tmp_path: Path) -> None:
    source = copy_source(tmp_path / "source")
    work = tmp_path / "work"
    work.mkdir()
    fresh = FreshVenv(tmp_path / "venv")

    fresh.pip_install(source, cwd=work)
    location = fresh.run(
        fresh.python, "-c", "import agentgen; print(agentgen.__file__)", cwd=work
    )
    assert Path(location.strip()).is_relative_to(tmp_path / "venv"), location
    assert "agentgen 0.1.0" in fresh.run(fresh.bin / "agentgen", "--version", cwd=work)
    installed = installed_names(fresh, work)
    assert {"agentgen", "protobuf", "grpcio", "mypy-protobuf"} <= installed
    assert not installed & NOT_RUNTIME, installed & NOT_RUNTIME

    created = fresh.run(fresh.bin / "agentgen", "init", "demo", cwd=work)
    assert "created 9 files" in created
    assert created.endswith(
        "  pip install -e '.[dev]'\n  agentgen generate\n  python -m pytest\n"
    )
    project = work / "demo"
    extend_contract(project)
    fresh.pip_install("-e", ".[dev]", cwd=project)
    assert installed_names(fresh, work) >= NOT_RUNTIME
    generated = fresh.run(fresh.bin / "agentgen", "generate", cwd=project)
    assert "generated code for 1 contract(s) from protos into src" in generated
    assert {"demo_pb2.py", "demo_pb2.pyi", "demo_agents.py"} <= {
        path.name for path in (project / "src").iterdir()
    }
    stubs = (project / "src" / "demo_pb2.pyi").read_text(encoding="utf-8")
    assert stubs.startswith('"""\n@generated by mypy-protobuf.'), stubs[:200]

    # The scaffold's own checks, as its README runs them.
    checked = fresh.run(fresh.bin / "mypy", cwd=project)
    assert re.search(r"Success: no issues found in \d+ source files", checked)
    fresh.run(fresh.bin / "ruff", "check", "--no-cache", ".", cwd=project)
    fresh.run(fresh.bin / "black", "--check", ".", cwd=project)
    tests = fresh.run(
        fresh.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert re.search(r"\b6 passed\b", tests), tests
    greeted = fresh.run(fresh.python, "-c", PROBE_INSTALLED, cwd=work)
    assert greeted.split() == ["demo.cli", "demo_pb2", "Visit"]

    hello = fresh.run(
        fresh.python,
        source / "examples" / "hello" / "run.py",
        "--build-dir",
        tmp_path / "hello-generated",
        cwd=work,
    )
    assert "[hello-agent] HelloAgent/python received: Hello from Python!" in hello
    assert "[user-proxy]  UserProxy/python shutting down" in hello
    assert hello.rstrip().endswith(
        "the host, HelloAgent and the user proxy all shut down cleanly"
    )
