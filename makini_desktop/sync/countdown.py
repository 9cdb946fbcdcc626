"""The client's retry wait, counted down for the status bar ("retrying in 12 s").

No Qt: an asyncio task ticks while a wait runs and calls ``on_tick``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

from makini_desktop.api.client import RetryEvent
from makini_desktop.sync.tasks import TaskSlots

TICK = 0.25
"""Seconds between two updates while a wait runs."""

_TICKER = "ticker"


def _quiet() -> None:
    """No listener."""


class RetryCountdown:
    """The retry wait that runs, if any, and how long it has left.

    Attributes:
        on_tick: called every :data:`TICK` seconds while a wait runs, and once when it ends
            by itself (not after :meth:`stop`: the caller says what changed then).
    """

    def __init__(self, *, tick: float = TICK) -> None:
        self.on_tick: Callable[[], None] = _quiet
        self.event: RetryEvent | None = None
        self._until = 0.0
        self._tick = tick
        self._slots = TaskSlots()

    @property
    def running(self) -> bool:
        return self.event is not None

    @property
    def is_rate_limit(self) -> bool:
        return self.event is not None and self.event.is_rate_limit

    def start(self, event: RetryEvent) -> None:
        """The client waits ``event.delay`` seconds before retrying: count them down."""
        self.event = event
        self._until = time.monotonic() + event.delay
        if not self._slots.running(_TICKER):
            self._slots.start(_TICKER, self._ticking())

    def stop(self) -> None:
        """No wait runs any more (the request ended, or the connection closed)."""
        self.event = None
        self._slots.cancel_all()

    def describe(self) -> str:
        """E.g. "Rate limited — retrying in 12 s" ("" when no wait runs)."""
        if self.event is None:
            return ""
        secs = max(1, round(self._until - time.monotonic()))
        return replace(self.event, delay=secs).describe()

    async def _ticking(self) -> None:
        while self.event is not None:
            await asyncio.sleep(self._tick)
            if self.event is None or time.monotonic() >= self._until:
                self.event = None
                self._slots.release(_TICKER)
            self.on_tick()
