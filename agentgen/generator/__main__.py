"""``python -m agentgen.generator``: the same as ``protoc-gen-agentgen``."""

from agentgen.generator.plugin import main

main()
