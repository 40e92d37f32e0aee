"""agentgen's test suite: a package, so helpers import as ``tests.support.*``.

pytest puts the repository root on ``sys.path`` (the folder above the top
package), as ``python -m`` from the root does for the benchmark and for the
tests' child processes.
"""
