"""Interoperability with real AutoGen 0.7.5 programs (a separate cached venv)."""
