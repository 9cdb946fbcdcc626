"""Long work on the GUI thread, cut into slices of time between which the event loop turns.

A search or a filter over 100k rows runs as a generator that yields between slices; its
caller awaits ``asyncio.sleep(0)`` at each yield (or runs it to its end with
:func:`run_steps`). A slice is measured in time, not in rows: a row costs 0.1-100 µs
depending on the work and the machine, and a busy 2-core machine runs it at half speed.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TypeVar

__all__ = ["SLICE_BUDGET_S", "TimeSlice", "run_steps"]

SLICE_BUDGET_S = 0.006
"""How long a slice runs: with the turn of the loop and a repaint, no stall near 50 ms."""

_T = TypeVar("_T")


class TimeSlice:
    """The clock of one piece of sliced work: :meth:`pause` yields once a slice is over.

    Args:
        seconds: the length of a slice.
    """

    def __init__(self, seconds: float = SLICE_BUDGET_S) -> None:
        self.seconds = seconds
        self._deadline = time.perf_counter() + seconds

    def over(self) -> bool:
        """True once the current slice has run its time."""
        return time.perf_counter() >= self._deadline

    def restart(self) -> None:
        """Start a new slice (after a yield)."""
        self._deadline = time.perf_counter() + self.seconds

    def pause(self) -> Generator[None, None, None]:
        """Yield (``yield from``) if the slice is over, then start the next one."""
        if time.perf_counter() >= self._deadline:
            yield
            self._deadline = time.perf_counter() + self.seconds


def run_steps(steps: Generator[None, None, _T]) -> _T:
    """Run a generator of steps to its end in one go; what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: _T = done.value
            return result
