"""agentgen's benchmark suite: agentgen vs AutoGen 0.7.5 vs a bare gRPC relay.

Run ``python -m bench`` from the repository root (see ``bench/README.md``).
"""
