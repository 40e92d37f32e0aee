"""Reports the problems found at source paths of one .proto file."""

from __future__ import annotations

from agentgen.generator.diagnostics import Diagnostic, Diagnostics
from agentgen.generator.options import DotnetNames, PluginOptions
from agentgen.generator.source_info import Path, SourceIndex


class Reporter:
    """Turns problems at a source path of one file into diagnostics."""

    def __init__(
        self,
        file: str,
        source: SourceIndex,
        diagnostics: Diagnostics,
        options: PluginOptions,
    ) -> None:
        self.file = file
        self.source = source
        self.diagnostics = diagnostics
        self.options = options

    def _diagnostic(
        self, path: Path, subject: str, problem: str, fix: str
    ) -> Diagnostic:
        return Diagnostic(self.file, self.source.position(path), subject, problem, fix)

    def error(self, path: Path, subject: str, problem: str, fix: str) -> None:
        """A problem that stops generation."""
        self.diagnostics.error(self._diagnostic(path, subject, problem, fix))

    def dotnet_name(self, path: Path, subject: str, problem: str, fix: str) -> None:
        """A name .NET agents cannot use: a warning, an error or nothing."""
        policy = self.options.dotnet_names
        if policy is DotnetNames.ERROR:
            self.error(path, subject, problem, fix)
        elif policy is DotnetNames.WARN:
            self.diagnostics.warn(self._diagnostic(path, subject, problem, fix))
