"""One agentgen ``NatsWorkerRuntime`` in one role: agentgen on NATS, no host.

Usage: ``nats_worker.py sub|pub|echo|caller --address nats://HOST:PORT ...``
(agentgen's venv with its ``nats`` extra, the benchmark gencode on
``PYTHONPATH``; options in ``childio.parse_worker_args``, roles in
``agentgen_roles.py``, the same agents as ``agentgen_worker.py``). The
server is ``nats_host.py``'s; each run has a fresh one, so the default
namespace is this run's alone.
"""

from __future__ import annotations

from agentgen_roles import play
from childio import Control, parse_worker_args, run_child

from agentgen.runtime.nats import NatsWorkerRuntime


async def work(control: Control) -> None:
    """Join the routing state, play the role, leave."""
    args = parse_worker_args(__doc__.splitlines()[0])
    async with NatsWorkerRuntime(args.address) as runtime:
        await play(control, args, runtime)


if __name__ == "__main__":
    run_child(work)
