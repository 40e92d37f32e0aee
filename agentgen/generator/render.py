"""Renders template models to source text with Jinja2."""

from __future__ import annotations

import functools
from importlib import resources

import jinja2

from agentgen.generator.model import ModuleModel

MODULE_TEMPLATE = "agents.py.j2"


def _load_template(name: str) -> str:
    """Read a template shipped as package data in ``agentgen/templates``."""
    return (resources.files("agentgen") / "templates" / name).read_text("utf-8")


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of the plugin."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_module(module: ModuleModel) -> str:
    """The source text of one generated ``_agents`` module."""
    return environment().get_template(MODULE_TEMPLATE).render(module=module)
