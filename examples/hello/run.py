"""Run the hello example end to end and exit 0 once everything has shut down.

1. generate the Python modules for ``protos/hello.proto`` (if missing or stale)
   into ``build/generated`` (not committed);
2. start ``agentgen host`` on a free port of 127.0.0.1;
3. start ``hello_agent.py``, wait until it is registered, then ``user_proxy.py``,
   both with ``AGENT_HOST`` set to the host's address;
4. wait until both have stopped (the conversation ends with ``Shutdown``), then
   stop the host with SIGTERM.

Each process's output is streamed with its label (``[host]``, ``[hello-agent]``,
``[user-proxy]``). Any process failing, or ``--timeout`` passing, ends the run
with a message and exit code 1; child processes never outlive the runner.

Usage: ``python examples/hello/run.py [--timeout SECONDS] [--build-dir DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOS = HERE / "protos"
DEFAULT_BUILD_DIR = HERE / "build" / "generated"
GENERATED = ("hello_pb2.py", "hello_agents.py")
LISTENING = re.compile(r"agentgen host listening on (\S+)")
HELLO_READY = re.compile(r"^HelloAgent ready$")
LABEL_WIDTH = len("[hello-agent]")
STOP_TIMEOUT = 30.0


class ExampleFailed(Exception):
    """The run did not go as it should; the message says what happened."""


def say(label: str, text: str, *, error: bool = False) -> None:
    """Print one labelled line of the run (to stderr if ``error``)."""
    stream = sys.stderr if error else sys.stdout
    print(f"{f'[{label}]':<{LABEL_WIDTH}} {text}", file=stream, flush=True)


class Child:
    """One labelled child process whose output is streamed line by line."""

    def __init__(self, label: str, process: asyncio.subprocess.Process) -> None:
        self.label = label
        self.process = process
        self._lines: list[str] = []
        self._waiters: list[tuple[re.Pattern[str], asyncio.Future[re.Match[str]]]] = []
        self.pump = asyncio.create_task(self._stream_output())

    @classmethod
    async def start(
        cls, label: str, command: list[str], env: dict[str, str] | None = None
    ) -> Child:
        """Start ``command`` with stdout and stderr merged into one stream."""
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        say("run", f"started {label} (pid {process.pid})")
        return cls(label, process)

    async def _stream_output(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            say(self.label, line)
            self._lines.append(line)
            for pattern, future in self._waiters:
                match = pattern.search(line)
                if match is not None and not future.done():
                    future.set_result(match)
        for pattern, future in self._waiters:
            if not future.done():
                future.set_exception(
                    ExampleFailed(
                        f"{self.label} ended before printing {pattern.pattern!r}"
                    )
                )

    async def wait_for_line(
        self, pattern: re.Pattern[str], deadline: float
    ) -> re.Match[str]:
        """Wait (until ``deadline``, monotonic) for an output line matching."""
        for line in self._lines:
            if match := pattern.search(line):
                return match
        if self.pump.done():
            raise ExampleFailed(
                f"{self.label} ended before printing {pattern.pattern!r}"
            )
        future: asyncio.Future[re.Match[str]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiters.append((pattern, future))
        try:
            return await asyncio.wait_for(future, _remaining(deadline))
        except TimeoutError:
            raise ExampleFailed(
                f"{self.label} did not print {pattern.pattern!r} in time"
            ) from None

    async def wait(self) -> int:
        """Wait for exit and for the rest of the output; return the exit code."""
        code = await self.process.wait()
        await self.pump
        return code

    async def kill(self) -> None:
        """Kill the process if it is still running."""
        if self.process.returncode is None:
            self.process.kill()
        await self.wait()


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def _stale(build_dir: Path) -> bool:
    newest_contract = max(path.stat().st_mtime for path in PROTOS.rglob("*.proto"))
    return any(
        not (build_dir / name).is_file()
        or (build_dir / name).stat().st_mtime < newest_contract
        for name in GENERATED
    )


async def generate(build_dir: Path, deadline: float) -> None:
    """Run ``agentgen generate`` unless the generated modules are up to date."""
    if not _stale(build_dir):
        say("run", f"generated code in {build_dir} is up to date")
        return
    command = [sys.executable, "-m", "agentgen", "generate", str(PROTOS)]
    # The build folder may be anywhere (tests use a temporary one).
    out = ["--out", str(build_dir), "--allow-outside-project"]
    generator = await Child.start("generate", [*command, *out])
    try:
        code = await asyncio.wait_for(generator.wait(), _remaining(deadline))
    finally:
        await generator.kill()
    if code != 0:
        raise ExampleFailed(f"agentgen generate failed with exit code {code}")


async def wait_for_exits(children: list[Child], deadline: float) -> None:
    """Wait until every child has exited, failing at once if one exits non-zero."""
    waits = {asyncio.create_task(child.wait()): child for child in children}
    pending = set(waits)
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending,
                timeout=_remaining(deadline),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                names = ", ".join(sorted(waits[task].label for task in pending))
                raise ExampleFailed(f"timed out waiting for {names} to stop")
            for task in done:
                code = task.result()
                if code != 0:
                    raise ExampleFailed(f"{waits[task].label} exited with code {code}")
    finally:
        for task in pending:
            task.cancel()


async def run(build_dir: Path, timeout: float) -> None:
    """The whole example; raises :class:`ExampleFailed` if anything goes wrong."""
    deadline = time.monotonic() + timeout
    await generate(build_dir, deadline)
    children: list[Child] = []
    try:
        host = await Child.start(
            "host",
            [sys.executable, "-m", "agentgen", "host", "--address", "127.0.0.1:0"],
        )
        children.append(host)
        address = (await host.wait_for_line(LISTENING, deadline)).group(1)
        python_path = os.pathsep.join(
            filter(None, [str(build_dir), os.environ.get("PYTHONPATH")])
        )
        env = {"AGENT_HOST": address, "PYTHONPATH": python_path}
        agent = await Child.start(
            "hello-agent", [sys.executable, str(HERE / "hello_agent.py")], env
        )
        children.append(agent)
        await agent.wait_for_line(HELLO_READY, deadline)
        proxy = await Child.start(
            "user-proxy", [sys.executable, str(HERE / "user_proxy.py")], env
        )
        children.append(proxy)
        await wait_for_exits([agent, proxy], deadline)
        host.process.send_signal(signal.SIGTERM)
        await wait_for_exits([host], time.monotonic() + STOP_TIMEOUT)
    finally:
        for child in reversed(children):
            await child.kill()


def main() -> int:
    """Parse arguments, run the example, report; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="give up after this many seconds (default: 120)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD_DIR,
        help=f"where generated modules go (default: {DEFAULT_BUILD_DIR})",
    )
    args = parser.parse_args()
    try:
        asyncio.run(run(args.build_dir.resolve(), args.timeout))
    except ExampleFailed as error:
        say("run", f"error: {error}", error=True)
        return 1
    except KeyboardInterrupt:
        say("run", "interrupted", error=True)
        return 130
    say("run", "the host, HelloAgent and the user proxy all shut down cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
