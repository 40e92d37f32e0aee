"""Renders template models to source text with Jinja2."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources

import jinja2

from agentgen.generator.layout import INDENT, Assignment, Bracketed, Code, render
from agentgen.generator.model import ModuleModel

MODULE_TEMPLATE = "agents.py.j2"


def _load_template(name: str) -> str:
    """Read a template shipped as package data in ``agentgen/templates``."""
    return (resources.files("agentgen") / "templates" / name).read_text("utf-8")


def bracketed(
    head: str, items: Iterable[Code], tail: str, is_tuple: bool = False
) -> Bracketed:
    """Template global ``code``: the code ``head item, item, ... tail``."""
    return Bracketed(head, tuple(items), tail, is_tuple)


def layout(code: Code | Assignment, indent_levels: int = 0) -> str:
    """Template filter: ``code`` laid out as black lays it out.

    ``indent_levels`` is the indentation of the line the template writes it on;
    the continuation lines are indented from there.
    """
    return render(code, INDENT * indent_levels)


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of the plugin."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        extensions=["jinja2.ext.do"],
    )
    env.globals.update(code=bracketed, assignment=Assignment)
    env.filters["layout"] = layout
    return env


def render_module(module: ModuleModel) -> str:
    """The source text of one generated ``_agents`` module."""
    return environment().get_template(MODULE_TEMPLATE).render(module=module)
