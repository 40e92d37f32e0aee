"""Integer counters declared as annotated class attributes (one class per side)."""

from __future__ import annotations

import inspect
from typing import ClassVar

__all__ = ["Counters"]


class Counters:
    """Integer counters declared as annotated class attributes, all 0 at first.

    Not a dataclass: creating one costs about half a millisecond at import,
    and every worker process imports these (bench scenario 7). An instance
    reads the class's 0 until it first increments a counter.
    """

    _names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._names = tuple(inspect.get_annotations(cls))

    def snapshot(self) -> dict[str, int]:
        """The current values, by name."""
        return {name: getattr(self, name) for name in self._names}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Counters)
        return self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value}" for name, value in self.snapshot().items())
        return f"{type(self).__name__}({values})"
