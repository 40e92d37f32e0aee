"""The plugin's parameters (``--agentgen_opt=key=value,...``), typed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields


class PluginOptionError(ValueError):
    """A parameter passed to the plugin is unknown or has an invalid value."""


class DotnetNames(enum.StrEnum):
    """What to do with agent types that .NET agents cannot address."""

    WARN = "warn"
    ERROR = "error"
    IGNORE = "ignore"


@dataclass(frozen=True)
class PluginOptions:
    """Options of protoc-gen-agentgen.

    ``dotnet_names``: ``warn`` (default), ``error`` or ``ignore`` for agent types
    valid in AutoGen's Python runtime but not for .NET agents.
    """

    dotnet_names: DotnetNames = DotnetNames.WARN


def parse_options(parameter: str) -> PluginOptions:
    """Parse protoc's comma-separated ``key=value`` parameter string."""
    known = {field.name for field in fields(PluginOptions)}
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in parameter.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if key not in known:
            raise PluginOptionError(
                f"unknown option {key!r}; known options: {', '.join(sorted(known))}"
            )
        if not sep:
            raise PluginOptionError(f"option {key!r} needs a value: {key}=VALUE")
        if key in values:
            raise PluginOptionError(f"option {key!r} is given twice")
        values[key] = value.strip()
    dotnet = values.get("dotnet_names", DotnetNames.WARN.value)
    try:
        dotnet_names = DotnetNames(dotnet)
    except ValueError:
        choices = ", ".join(member.value for member in DotnetNames)
        raise PluginOptionError(
            f"invalid value {dotnet!r} for option 'dotnet_names'; use one of {choices}"
        ) from None
    return PluginOptions(dotnet_names=dotnet_names)
