"""Tests with real nats-server processes (the fixtures are in conftest.py).

Not named ``nats``: ``tests`` is on ``sys.path`` (pytest's ``pythonpath``), so a
``tests/nats`` package would hide the nats-py client's ``nats`` package.
"""
