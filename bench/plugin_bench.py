"""Benchmark ``protoc-gen-agentgen`` against protoc's own ``--python_out``.

Builds the synthetic corpus of ``bench_protos.py`` (50 files x 40 messages with
nested messages, enums, oneofs, maps, proto3 optional and well-known types),
annotates 10 of its files with one unary agent service each, then times, in
alternating rounds, protoc's parse alone, ``--python_out`` alone,
``--agentgen_out`` alone and all of ``--python_out --pyi_out --agentgen_out``.
Prints a markdown table of medians and the ratio agentgen / python_out.

    python bench/plugin_bench.py [--rounds 3] [--corpus-script PATH] [--profile]

``--profile`` also captures the plugin's CodeGeneratorRequest and profiles
the plugin on it in this process (cProfile, top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentgen.generator.plugin import respond
from agentgen.generator.request import parse_request
from agentgen.protos import protos_path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_SCRIPT = REPO_ROOT.parent / "shared" / "reference" / "bench_protos.py"
PLUGIN = "protoc-gen-agentgen"
AGENT_FILES = 10
RPCS_PER_AGENT = 5
PROTOC_TIMEOUT_SECONDS = 600.0
_LAST_IMPORT = 'import "google/protobuf/wrappers.proto";'
_FILE_INDEX = re.compile(r"file(\d+)\.proto$")


@dataclass(frozen=True)
class Config:
    """One protoc invocation to time."""

    label: str
    flags: tuple[str, ...]


def _plugin_path() -> Path:
    found = shutil.which(PLUGIN, path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(f"{PLUGIN} is not installed beside {sys.executable}")
    return Path(found)


def build_corpus(
    corpus_script: Path, root: Path, files: int, messages: int
) -> list[str]:
    """Write the corpus into ``root`` and annotate agents; return its files."""
    completed = subprocess.run(
        [
            sys.executable,
            str(corpus_script),
            str(root),
            "--files",
            str(files),
            "--messages",
            str(messages),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=PROTOC_TIMEOUT_SECONDS,
    )
    names = completed.stdout.split()
    step = max(1, len(names) // AGENT_FILES)
    for name in names[::step][:AGENT_FILES]:
        _add_agent(root / name, messages)
    return names


def _add_agent(path: Path, messages: int) -> None:
    """Append a unary service annotated with ``(agentgen.agent)`` to a file."""
    match = _FILE_INDEX.search(path.name)
    if match is None:
        raise ValueError(f"unexpected corpus file name {path}")
    i = int(match.group(1))
    text = path.read_text(encoding="utf-8")
    imports = (
        f"{_LAST_IMPORT}\n"
        'import "google/protobuf/empty.proto";\n'
        'import "agentgen/options.proto";'
    )
    lines = [
        f"// Agent of file {i}: handles {RPCS_PER_AGENT} message types.",
        f"service Worker{i} {{",
        "  option (agentgen.agent) = {",
        f'    subscribe: "bench.topic{i}"',
        f'    subscribe_prefix: "bench.prefix{i}."',
        "    default_subscription: true",
        "  };",
    ]
    for k in range(RPCS_PER_AGENT):
        request = f"Msg{i}x{k % messages}"
        response = (
            "google.protobuf.Empty"
            if k == RPCS_PER_AGENT - 1
            else f"Msg{i}x{(k + 1) % messages}"
        )
        lines += [
            f"  // Handle {request}.",
            f"  rpc Handle{k}({request}) returns ({response});",
        ]
    lines.append("}")
    path.write_text(
        text.replace(_LAST_IMPORT, imports) + "\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )


_EMPTY_RESPONSE = """\
from google.protobuf.compiler import plugin_pb2
response = plugin_pb2.CodeGeneratorResponse(
    supported_features=3, minimum_edition=998, maximum_edition=1001
)
sys.stdout.buffer.write(response.SerializeToString())
"""
# A plugin that parses the request and generates nothing: the floor any
# Python plugin pays (process start, protoc's request hand-off, parsing).
_NOOP_PLUGIN = (
    "import sys\n"
    "from google.protobuf.compiler import plugin_pb2\n"
    "plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())\n"
    + _EMPTY_RESPONSE
)


def _write_script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def _configs(scratch: Path) -> list[Config]:
    plugin = f"--plugin={PLUGIN}={_plugin_path()}"
    noop = _write_script(scratch / "protoc-gen-noop", _NOOP_PLUGIN)
    return [
        Config("protoc parse only", (f"--descriptor_set_out={scratch / 'set.pb'}",)),
        Config(
            "no-op Python plugin (parses the request only)",
            (f"--plugin=protoc-gen-noop={noop}", "--noop_out={out}"),
        ),
        Config("--python_out", ("--python_out={out}",)),
        Config("--agentgen_out", (plugin, "--agentgen_out={out}")),
        Config(
            "--python_out --pyi_out --agentgen_out",
            ("--python_out={out}", "--pyi_out={out}", plugin, "--agentgen_out={out}"),
        ),
    ]


def _protoc(corpus: Path, files: Sequence[str], flags: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{corpus}",
        f"-I{protos_path()}",
        *flags,
        *files,
    ]


def time_config(config: Config, corpus: Path, files: Sequence[str], out: Path) -> float:
    """Wall time of one protoc run into a fresh ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    flags = [flag.format(out=out) for flag in config.flags]
    start = time.perf_counter()
    completed = subprocess.run(
        _protoc(corpus, files, flags),
        capture_output=True,
        text=True,
        check=False,
        timeout=PROTOC_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{config.label} failed:\n{completed.stderr}")
    return elapsed


def _count_outputs(out: Path) -> tuple[int, int]:
    modules = list(out.rglob("*_agents.py"))
    classes = sum(path.read_text().count("(AgentClient):") for path in modules)
    return len(modules), classes


def run_rounds(
    corpus: Path, files: Sequence[str], scratch: Path, rounds: int
) -> dict[str, list[float]]:
    """Time every configuration once per round, alternating."""
    configs = _configs(scratch)
    times: dict[str, list[float]] = {config.label: [] for config in configs}
    for round_number in range(1, rounds + 1):
        for config in configs:
            seconds = time_config(config, corpus, files, scratch / "out")
            times[config.label].append(seconds)
            print(f"round {round_number}: {config.label}: {seconds:.2f} s", flush=True)
    return times


def report(times: dict[str, list[float]]) -> str:
    """A markdown table of medians (min-max), and the agentgen/python ratio."""
    rows = ["| configuration | median s | min-max s |", "|---|---:|---:|"]
    for label, samples in times.items():
        rows.append(
            f"| `{label}` | {statistics.median(samples):.2f} "
            f"| {min(samples):.2f}-{max(samples):.2f} |"
        )
    agentgen, python = times["--agentgen_out"], times["--python_out"]
    ratio = statistics.median(agentgen) / statistics.median(python)
    best_ratio = min(agentgen) / min(python)
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    rows.append("")
    rows.append(
        f"agentgen_out / python_out: median {ratio:.2f} ({verdict} the target of "
        f"<= 1.00), best of each {best_ratio:.2f}"
    )
    return "\n".join(rows)


def profile_plugin(corpus: Path, files: Sequence[str], scratch: Path) -> str:
    """Capture the plugin's request with a dump plugin, profile it in-process."""
    request_file = scratch / "request.bin"
    dumper = _write_script(
        scratch / "protoc-gen-dump",
        "import sys\n"
        f"open({str(request_file)!r}, 'wb').write(sys.stdin.buffer.read())\n"
        + _EMPTY_RESPONSE,
    )
    (scratch / "dump").mkdir(exist_ok=True)
    subprocess.run(
        _protoc(
            corpus, files, [f"--plugin={dumper}", f"--dump_out={scratch / 'dump'}"]
        ),
        check=True,
        timeout=PROTOC_TIMEOUT_SECONDS,
    )
    data = request_file.read_bytes()
    profiler = cProfile.Profile()
    profiler.enable()
    response, _ = respond(parse_request(data))
    profiler.disable()
    if response.error:
        raise SystemExit(f"the plugin refused the corpus: {response.error}")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
    return f"request: {len(data) / 1e6:.1f} MB\n{stream.getvalue()}"


def main(argv: Sequence[str] | None = None) -> None:
    """Build the corpus, time the configurations and print the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus-script", type=Path, default=DEFAULT_CORPUS_SCRIPT)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if not args.corpus_script.is_file():
        raise SystemExit(f"corpus script not found: {args.corpus_script}")
    with tempfile.TemporaryDirectory(prefix="agentgen-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        corpus = scratch / "corpus"
        files = build_corpus(args.corpus_script, corpus, args.files, args.messages)
        print(
            f"corpus: {len(files)} files x {args.messages} messages, "
            f"{AGENT_FILES} agents; {os.cpu_count()} CPUs",
            flush=True,
        )
        times = run_rounds(corpus, files, scratch, args.rounds)
        modules, agents = _count_outputs(scratch / "out")
        print(f"\ngenerated {modules} _agents modules with {agents} agents\n")
        print(report(times))
        if args.profile:
            print("\n" + profile_plugin(corpus, files, scratch))


if __name__ == "__main__":
    main()
