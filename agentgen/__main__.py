"""``python -m agentgen``: the ``agentgen`` command line."""

from agentgen.cli import main

if __name__ == "__main__":
    main()
