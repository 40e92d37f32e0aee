"""The protoc plugin ``protoc-gen-agentgen``.

It turns ``.proto`` contracts annotated with ``agentgen/options.proto`` into
typed agent modules (``x_agents.py`` beside protoc's ``x_pb2.py``). The stages:
:mod:`~agentgen.generator.contracts` reads and checks the annotations,
:mod:`~agentgen.generator.build` computes a template model,
:mod:`~agentgen.generator.render` renders it with the Jinja2 templates, and
:mod:`~agentgen.generator.plugin` runs the protoc plugin lifecycle.
"""
