"""Errors and warnings about a contract, located in its .proto file."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentgen.generator.source_info import Position


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is, what is wrong and what to change."""

    file: str
    position: Position | None
    subject: str
    problem: str
    fix: str

    def format(self, severity: str = "") -> str:
        """Render as ``file:line:col: [severity: ]subject: problem; fix``."""
        where = self.file
        if self.position is not None:
            where += f":{self.position.line}:{self.position.column}"
        label = f"{severity}: " if severity else ""
        subject = f"{self.subject}: " if self.subject else ""
        return f"{where}: {label}{subject}{self.problem}; {self.fix}"


@dataclass
class Diagnostics:
    """Collects every error and warning of one plugin run."""

    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    def error(self, diagnostic: Diagnostic) -> None:
        """Record a problem that stops generation."""
        self.errors.append(diagnostic)

    def warn(self, diagnostic: Diagnostic) -> None:
        """Record a problem worth telling the user about; generation goes on."""
        self.warnings.append(diagnostic)

    def error_text(self) -> str:
        """All errors, one per line, in the order they were found."""
        return "\n".join(error.format() for error in self.errors)

    def warning_text(self) -> str:
        """All warnings, one per line, in the order they were found."""
        return "\n".join(warning.format("warning") for warning in self.warnings)
