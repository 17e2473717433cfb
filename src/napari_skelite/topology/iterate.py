"""The iteration counter every thinning loop shares."""
from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["iteration_numbers"]


def iteration_numbers(iterations: int | None, tick: Callable[[], None] | None = None) -> Iterator[int]:
    """Yield 1, 2, ... up to ``iterations`` (without end when ``None``), calling ``tick`` before each.

    ``tick`` is where a run reports progress and is cancelled (it raises).
    The loop that iterates stops on its own when an iteration changes nothing.
    """
    k = 0
    while iterations is None or k < iterations:
        k += 1
        if tick is not None:
            tick()
        yield k
