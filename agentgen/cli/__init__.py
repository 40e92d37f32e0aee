"""The ``agentgen`` command line: ``init``, ``generate``, ``graph``, ``host``,
``nats``, ``protos-path``. Entry point: :func:`main`."""

from agentgen.cli.app import app, main, run

__all__ = ["app", "main", "run"]
