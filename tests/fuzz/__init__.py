"""Hypothesis fuzzing of the host, the worker and the plugin (bounded in CI)."""
