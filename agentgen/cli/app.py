"""The ``agentgen`` command line (Typer).

Every command is a thin wrapper: the work happens in :mod:`agentgen.cli.protoc`,
:mod:`agentgen.graph`, :mod:`agentgen.scaffold` and :mod:`agentgen.cli.hosting`.
User mistakes surface as :class:`~agentgen.cli.errors.CliError` and are shown by
:func:`main` as one line on stderr.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from agentgen import __version__
from agentgen.cli.errors import CliError, UsageProblem
from agentgen.cli.project import load_project_config, require_inside_project
from agentgen.cli.protoc import compile_contracts, display_path

__all__ = ["GraphFormat", "app", "main", "run"]

PROG_NAME = "agentgen"

app = typer.Typer(
    name=PROG_NAME,
    help="Typed Python agents from annotated .proto contracts, on AutoGen's wire "
    "protocol.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class EventLoopKind(enum.StrEnum):
    """``--loop`` of ``agentgen host`` (see :mod:`agentgen.runtime.event_loop`)."""

    AUTO = "auto"
    ASYNCIO = "asyncio"
    UVLOOP = "uvloop"


class TypeSharingMode(enum.StrEnum):
    """``--type-sharing`` of ``agentgen host`` (see ``TypeSharing``)."""

    EXCLUSIVE = "exclusive"
    BY_KEY = "by-key"
    FAN_OUT = "fan-out"


class GraphFormat(enum.StrEnum):
    """Output formats of ``agentgen graph``."""

    MERMAID = "mermaid"
    DOT = "dot"
    SVG = "svg"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG_NAME} {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Typed Python agents from annotated .proto contracts."""


ProtoDirArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Folder of .proto contracts (default: \\[tool.agentgen] proto_dir, "
        "else ./protos).",
        show_default=False,
    ),
]


def _proto_dir(given: Path | None) -> Path:
    return given if given is not None else load_project_config(Path.cwd()).proto_dir


@app.command()
def generate(
    proto_dir: ProtoDirArgument = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the generated modules, inside the project: the folder "
            "of the nearest pyproject.toml, else the working folder (default: "
            "\\[tool.agentgen] out, else .).",
            show_default=False,
        ),
    ] = None,
    plugin_options: Annotated[
        list[str] | None,
        typer.Option(
            "--opt",
            help="Option for protoc-gen-agentgen, KEY=VALUE (repeatable; default: "
            "\\[tool.agentgen] plugin_options), e.g. dotnet_names=error.",
            show_default=False,
        ),
    ] = None,
    allow_outside_project: Annotated[
        bool,
        typer.Option(
            "--allow-outside-project",
            help="Let --out name a folder outside the project (an out setting in "
            "pyproject.toml never may).",
        ),
    ] = False,
) -> None:
    """Compile contracts into _pb2.py, _pb2.pyi and _agents.py modules.

    Contracts are read from anywhere; modules are written only inside the
    project folder unless --out and --allow-outside-project are both given.
    """
    out_source = "--out"
    if proto_dir is None or out is None or plugin_options is None:
        config = load_project_config(Path.cwd())
        proto_dir = proto_dir if proto_dir is not None else config.proto_dir
        if out is None:
            out = config.out
            out_source = f"{config.pyproject}: [tool.agentgen] out"
        if plugin_options is None:
            plugin_options = list(config.plugin_options)
    if not (allow_outside_project and out_source == "--out"):
        require_inside_project(out, out_source, Path.cwd())
    files = compile_contracts(proto_dir, out, plugin_options)
    typer.echo(
        f"agentgen: generated code for {len(files)} contract(s) from "
        f"{display_path(proto_dir)} into {display_path(out)}"
    )


@app.command()
def graph(
    proto_dir: ProtoDirArgument = None,
    output_format: Annotated[
        GraphFormat,
        typer.Option("--format", "-f", help="Drawing format.", case_sensitive=False),
    ] = GraphFormat.MERMAID,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file instead of stdout.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw agents, topics and message types of the contracts."""
    from agentgen.cli.protoc import read_descriptor_set
    from agentgen.graph import RENDERERS, build_contract_graph

    proto_dir = _proto_dir(proto_dir)
    if output is not None and not output.parent.is_dir():
        raise UsageProblem(
            f"--output: folder '{display_path(output.parent)}' does not exist"
        )
    descriptor_set, files = read_descriptor_set(proto_dir)
    text = RENDERERS[output_format.value](build_contract_graph(descriptor_set, files))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def host(
    address: Annotated[
        str, typer.Option(help="host:port to listen on; port 0 picks a free port.")
    ] = "127.0.0.1:53071",
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="PEM certificate chain: serve TLS.", show_default=False),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(help="PEM private key of --tls-cert.", show_default=False),
    ] = None,
    tls_client_ca: Annotated[
        Path | None,
        typer.Option(
            help="PEM CA: require client certificates it signed (mutual TLS).",
            show_default=False,
        ),
    ] = None,
    max_message_size: Annotated[
        int | None,
        typer.Option(
            help="Largest message in bytes (default 64 MiB); set the same on workers.",
            min=1,
            show_default=False,
        ),
    ] = None,
    auth_token: Annotated[
        str | None,
        typer.Option(
            envvar="AGENTGEN_AUTH_TOKEN",
            help="Refuse calls without 'authorization: Bearer TOKEN' metadata "
            "(agentgen workers send AGENTGEN_AUTH_TOKEN; AutoGen workers cannot). "
            "Prefer the environment variable: options are visible to other users.",
            show_default=False,
        ),
    ] = None,
    type_sharing: Annotated[
        TypeSharingMode,
        typer.Option(
            help="Several workers per agent type? exclusive: no (AutoGen Python's "
            "host); by-key: yes, each agent key served by one of them; fan-out: "
            "yes, events to all of them, RPCs to one per key (the .NET gateway).",
        ),
    ] = TypeSharingMode.EXCLUSIVE,
    metrics_address: Annotated[
        str | None,
        typer.Option(
            help="host:port to serve Prometheus metrics on, at /metrics (needs "
            "agentgen's otel extra); port 0 picks a free port.",
            show_default=False,
        ),
    ] = None,
    loop: Annotated[
        EventLoopKind,
        typer.Option(
            help="Event loop: auto picks uvloop when it is installed "
            "(agentgen's uvloop extra).",
        ),
    ] = EventLoopKind.AUTO,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log connections and traffic.")
    ] = False,
) -> None:
    """Run the gRPC host that workers (agentgen or AutoGen) connect to."""
    from agentgen.cli.hosting import HostSettings, TlsFiles, configure_logging, run_host

    tls_files = TlsFiles(tls_cert, tls_key, tls_client_ca)
    configure_logging(verbose)
    run_host(
        HostSettings(
            address,
            tls_files,
            max_message_size,
            auth_token or None,
            type_sharing=type_sharing.value,
            metrics_address=metrics_address,
        ),
        loop=loop.value,
    )


@app.command()
def nats(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Client port.", min=1, max=65535)] = 4222,
    store: Annotated[
        Path | None,
        typer.Option(
            help="JetStream store folder (default: .agentgen/nats in the project "
            "folder: the nearest pyproject.toml's, else the working folder).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    monitor_port: Annotated[
        int | None,
        typer.Option(
            help="Also serve the HTTP monitoring endpoints (/healthz, /jsz...) here.",
            min=1,
            max=65535,
            show_default=False,
        ),
    ] = None,
    nats_server: Annotated[
        Path | None,
        typer.Option(
            "--nats-server",
            help="The nats-server executable (default: AGENTGEN_NATS_SERVER, else "
            "the one of agentgen's nats-server extra, else PATH).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a development NATS server with JetStream until Ctrl-C or SIGTERM."""
    from agentgen.cli.nats_dev import run_dev_server

    run_dev_server(host, port, store, nats_server, monitor_port)


@app.command()
def init(
    name: Annotated[
        str, typer.Argument(help="Project and Python package name, e.g. 'greeter'.")
    ],
    path: Annotated[
        Path | None,
        typer.Option(help="Folder to create (default: ./NAME).", show_default=False),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write into a folder that is not empty.")
    ] = False,
) -> None:
    """Scaffold a runnable agent project with a contract and tests."""
    from agentgen.scaffold import create_project

    target = path if path is not None else Path(name)
    written = create_project(name, target, force=force)
    typer.echo(f"agentgen: created {len(written)} files in {display_path(target)}")
    typer.echo("next:")
    typer.echo(f"  cd {display_path(target)}")
    typer.echo("  pip install -e '.[dev]'")
    typer.echo("  agentgen generate")
    typer.echo("  python -m pytest")


@app.command("protos-path")
def protos_path() -> None:
    """Print the folder to pass to protoc as -I for agentgen/options.proto."""
    from agentgen.protos import protos_path as path

    typer.echo(str(path()))


def _report(prefix: str, message: str) -> None:
    sys.stdout.flush()
    print(f"{prefix}: error: {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=args or ["--help"], prog_name=PROG_NAME, standalone_mode=False
        )
    except CliError as error:
        _report(_command_path(args), error.message)
        return error.exit_code
    except typer.TyperException as error:  # click's usage and file errors
        context = getattr(error, "ctx", None)
        prefix = context.command_path if context is not None else PROG_NAME
        _report(prefix, error.format_message())
        return int(getattr(error, "exit_code", 1))
    except typer.Abort:
        _report(PROG_NAME, "aborted")
        return 1
    except OSError as error:  # e.g. an output folder that cannot be written
        where = f"{error.filename}: " if error.filename else ""
        _report(_command_path(args), f"{where}{error.strerror or error}")
        return 1
    return result if isinstance(result, int) else 0


def _command_path(args: Sequence[str]) -> str:
    command_names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for arg in args:
        if arg in command_names:
            return f"{PROG_NAME} {arg}"
    return PROG_NAME


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: run and exit with the command's status."""
    sys.exit(run(argv))
