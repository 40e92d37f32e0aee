"""``agentgen graph``: the same agents/topics/messages structure in every format."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .helpers import CONTRACTS, run_cli

GREETER = CONTRACTS / "greeter"

# (source label, edge label, target label) of every arrow greeter.proto implies.
EXPECTED_EDGES = {
    ("greet.Hello", "topic", "greetings"),
    ("greet.Audit", "topic", "audit.greetings"),
    ("greet.Audit.Detail", "topic", "audit.details"),
    ("greetings", "subscribes", "Greeter"),
    ("default", "subscribes", "Greeter"),
    ("audit.*", "subscribes (prefix)", "audit_log"),
    ("audit.greetings", "via audit.*", "audit_log"),
    ("audit.details", "via audit.*", "audit_log"),
    ("greet.Hello", "SayHello", "Greeter"),
    ("greet.Audit", "Record", "audit_log"),
    ("greet.Audit.Detail", "RecordDetail", "audit_log"),
    ("Greeter", "returns", "greet.Reply"),
}
EXPECTED_NODES = {
    "messages": {"greet.Hello", "greet.Reply", "greet.Audit", "greet.Audit.Detail"},
    "topics": {"greetings", "default", "audit.*", "audit.greetings", "audit.details"},
    "agents": {"Greeter", "audit_log"},
}

Edges = set[tuple[str, str, str]]
Nodes = dict[str, set[str]]


def graph_text(capsys: pytest.CaptureFixture[str], output_format: str) -> str:
    result = run_cli(capsys, "graph", str(GREETER), "--format", output_format)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def parse_mermaid(text: str) -> tuple[Nodes, Edges]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: Nodes = {}
    labels: dict[str, str] = {}
    column = ""
    edges: Edges = set()
    for line in lines[1:]:
        if match := re.fullmatch(r'  subgraph (\w+) \["\w+"\]', line):
            column = match.group(1)
            nodes[column] = set()
        elif match := re.fullmatch(r'    (\w+)[\[\(]+"([^"]+)"[\]\)]+', line):
            labels[match.group(1)] = match.group(2)
            nodes[column].add(match.group(2))
        elif match := re.fullmatch(r'  (\w+) [-.=]+>\|"([^"]+)"\| (\w+)', line):
            edges.add((labels[match[1]], match[2], labels[match[3]]))
        else:
            assert line == "  end", line
    return nodes, edges


def parse_dot(text: str) -> tuple[Nodes, Edges]:
    assert text.startswith("digraph agentgen {\n") and text.endswith("}\n")
    nodes: Nodes = {}
    labels: dict[str, str] = {}
    column = ""
    edges: Edges = set()
    for line in text.splitlines():
        if match := re.fullmatch(r"  subgraph cluster_(\w+) \{", line):
            column = match.group(1)
            nodes[column] = set()
        elif match := re.fullmatch(r'    (\w+) \[label="([^"]+)", .*\];', line):
            labels[match.group(1)] = match.group(2)
            nodes[column].add(match.group(2))
        elif match := re.fullmatch(r'  (\w+) -> (\w+) \[label="([^"]+)", .*\];', line):
            edges.add((labels[match[1]], match[3], labels[match[2]]))
    return nodes, edges


SVG = "{http://www.w3.org/2000/svg}"
_COLUMN_OF_CLASS = {"message": "messages", "topic": "topics", "agent": "agents"}


def parse_svg(text: str) -> tuple[Nodes, Edges]:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    nodes: Nodes = {column: set() for column in _COLUMN_OF_CLASS.values()}
    labels: dict[str, str] = {}
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if classes[:1] == ["node"]:
            label = group.findtext(f"{SVG}text")
            assert label is not None and group.findtext(f"{SVG}title") == label
            labels[group.get("id", "")] = label
            nodes[_COLUMN_OF_CLASS[classes[1]]].add(label)
    edges: Edges = set()
    for group in root.iter(f"{SVG}g"):
        if group.get("class", "").startswith("edge "):
            path = group.find(f"{SVG}path")
            assert path is not None and path.get("d", "").startswith("M")
            label = group.findtext(f"{SVG}title") or ""
            edges.add(
                (
                    labels[group.get("data-source", "")],
                    label,
                    labels[group.get("data-target", "")],
                )
            )
    return nodes, edges


@pytest.mark.parametrize(
    ("output_format", "parse"),
    [("mermaid", parse_mermaid), ("dot", parse_dot), ("svg", parse_svg)],
)
def test_graph_structure(
    capsys: pytest.CaptureFixture[str],
    output_format: str,
    parse: object,
) -> None:
    assert callable(parse)
    nodes, edges = parse(graph_text(capsys, output_format))
    assert nodes == EXPECTED_NODES
    assert edges == EXPECTED_EDGES


@pytest.mark.parametrize("output_format", ["mermaid", "dot", "svg"])
def test_graph_is_deterministic(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    assert graph_text(capsys, output_format) == graph_text(capsys, output_format)


def _boxes(text: str) -> list[tuple[str, float, float, float, float]]:
    root = ET.fromstring(text.encode("utf-8"))
    boxes = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class", "").startswith("node "):
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            x, y, width, height = (
                float(rect.get(attribute, "nan"))
                for attribute in ("x", "y", "width", "height")
            )
            boxes.append((group.get("class", ""), x, y, width, height))
    return boxes


def test_svg_boxes_fit_and_do_not_overlap(capsys: pytest.CaptureFixture[str]) -> None:
    text = graph_text(capsys, "svg")
    root = ET.fromstring(text.encode("utf-8"))
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    boxes = _boxes(text)
    assert len(boxes) == sum(len(labels) for labels in EXPECTED_NODES.values())
    for _, x, y, w, h in boxes:
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
    for index, (_, x1, y1, w1, h1) in enumerate(boxes):
        for _, x2, y2, w2, h2 in boxes[index + 1 :]:
            apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
            assert apart, (x1, y1, x2, y2)
    # Columns run left to right: messages, topics, agents.
    lefts = {kind: min(x for k, x, *_ in boxes if k == kind) for kind, *_ in boxes}
    assert lefts["node message"] < lefts["node topic"] < lefts["node agent"]


def test_graph_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "contracts.svg"
    result = run_cli(
        capsys, "graph", str(GREETER), "--format", "svg", "--output", str(target)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert parse_svg(target.read_text(encoding="utf-8"))[1] == EXPECTED_EDGES


def test_graph_reads_proto_dir_from_pyproject(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.agentgen]\nproto_dir = "{GREETER.as_posix()}"\n'
    )
    nested = tmp_path / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    result = run_cli(capsys, "graph", "--format", "dot")
    assert result.exit_code == 0, result.stderr
    assert parse_dot(result.stdout) == (EXPECTED_NODES, EXPECTED_EDGES)


def test_svg_arrows_between_messages_and_agents_avoid_topic_boxes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = ET.fromstring(graph_text(capsys, "svg").encode("utf-8"))
    topic_spans = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node topic":
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            top = float(rect.get("y", "nan"))
            topic_spans.append((top, top + float(rect.get("height", "nan"))))
    crossings = 0
    for group in root.iter(f"{SVG}g"):
        if group.get("class") in ("edge handles", "edge returns"):
            path = group.find(f"{SVG}path")
            assert path is not None
            lane = re.search(r" L[-\d.]+,([-\d.]+) ", path.get("d", ""))
            assert lane is not None, path.get("d")
            y = float(lane.group(1))
            assert all(not top <= y <= bottom for top, bottom in topic_spans), y
            crossings += 1
    assert crossings == 4  # SayHello, Record, RecordDetail, returns
