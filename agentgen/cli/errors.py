"""Errors the CLI reports as one line on stderr instead of a traceback."""

from __future__ import annotations

__all__ = ["USAGE_EXIT_CODE", "CliError", "UsageProblem"]

USAGE_EXIT_CODE = 2


class CliError(Exception):
    """A failure caused by the user's input or environment (exit code 1).

    The message is shown as is, so it must name the file, folder or value at fault.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageProblem(CliError):
    """A bad argument, option or configuration value (exit code 2)."""

    exit_code = USAGE_EXIT_CODE
