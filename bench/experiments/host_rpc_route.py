"""CPU per RPC of the host's routing alone, no gRPC: request in, reply back.

Feeds ``HostRouter.on_frame`` a request from a caller client and the
callee's reply (100-byte payloads by default, as bench scenario 4), taking each
forwarded frame from the target's outbox, and prints the CPU µs per call
(best of ``--repeat`` runs). The bench's scenario 4 moves by ±10% from run
to run on a shared machine, far more than the few µs measured here.

    .venv/bin/python -m bench.experiments.host_rpc_route --calls 50000
"""

from __future__ import annotations

import argparse
import asyncio
import time

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc.host.counters import HostCounters
from agentgen.runtime.grpc.host.router import HostRouter


def _request(request_id: str, size: int) -> bytes:
    message = pb.Message()
    request = message.request
    request.request_id = request_id
    request.source.type, request.source.key = "caller", "1"
    request.target.type, request.target.key = "callee", "1"
    request.payload.data_type = "bench.Ping"
    request.payload.data_content_type = "application/x-protobuf"
    request.payload.data = b"x" * size
    return message.SerializeToString()


def _reply(request_id: str, size: int) -> bytes:
    message = pb.Message()
    response = message.response
    response.request_id = request_id
    response.payload.data_type = "bench.Ping"
    response.payload.data_content_type = "application/x-protobuf"
    response.payload.data = b"x" * size
    return message.SerializeToString()


async def _run(calls: int, size: int) -> float:
    router = HostRouter(
        rpc_timeout=30.0,
        outbox_limit=10_000,
        counters=HostCounters(),
        hold_unrouted=0.0,
        hold_unrouted_bytes=0,
    )
    caller = router.registry.open_channel("caller")
    callee = router.registry.open_channel("callee")
    router.registry.register_agent_type("callee", "callee")
    # The host's ids are its prefix and a counter: the replies are made up
    # front, so that only the router's work is timed.
    prefix = router.request_id_prefix
    requests = [_request(f"caller-{n}", size) for n in range(calls)]
    replies = [_reply(f"{prefix}{n + 1}", size) for n in range(calls)]
    started = time.process_time()
    for request, reply in zip(requests, replies, strict=True):
        await router.on_frame("caller", request)
        callee.get_nowait()
        await router.on_frame("callee", reply)
        caller.get_nowait()
    spent = time.process_time() - started
    assert router.counters.rpc_replies == calls
    router.close()
    return spent / calls * 1e6


def main() -> None:
    """Print the host's CPU µs per routed call (request and reply)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--payload", type=int, default=100, help="bytes")
    args = parser.parse_args()
    runs = [asyncio.run(_run(args.calls, args.payload)) for _ in range(args.repeat)]
    print(f"host routing: {min(runs):.2f} µs CPU per call (best of {args.repeat})")


if __name__ == "__main__":
    main()
